/*
 * For the tests only; never built into uvchatd, never installed.
 *
 * An LD_PRELOAD library that lets tests/integration/test_store_sync.cpp see
 * and break the server's syncs. It wraps fsync(2) and fdatasync(2):
 *
 *   UVCHAT_SYNC_LOG=PATH   after each call, one line is appended to PATH:
 *                          "fdatasync FILE RC" or "fsync FILE RC", FILE being
 *                          what /proc/self/fd/N names and RC what the call
 *                          returned (0 or -1). One open(O_APPEND) + one
 *                          write() + close per line, so that lines from
 *                          several threads do not interleave, and the line
 *                          is in the file before the caller goes on.
 *   UVCHAT_SYNC_FAIL=PATH  while a file exists at PATH, the call syncs
 *                          nothing and fails with EIO, as a disk that cannot
 *                          write would make it (logged with RC -1).
 *
 * On success errno is as the caller left it; on failure it is the call's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*sync_function)(int);

/* The libc function this one stands in for. (Copied, not cast: ISO C has
   no conversion from dlsym's void* to a function pointer.) */
static sync_function real_function(const char* name) {
  void* symbol = dlsym(RTLD_NEXT, name);
  sync_function function = NULL;
  if (symbol != NULL) memcpy(&function, &symbol, sizeof function);
  return function;
}

/* True while the file UVCHAT_SYNC_FAIL names exists. */
static int told_to_fail(void) {
  const char* path = getenv("UVCHAT_SYNC_FAIL");
  return path != NULL && *path != '\0' && access(path, F_OK) == 0;
}

static void log_call(const char* name, int fd, int rc) {
  const char* log_path = getenv("UVCHAT_SYNC_LOG");
  if (log_path == NULL || *log_path == '\0') return;
  char link[64];
  char target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t length = readlink(link, target, sizeof target - 1);
  if (length < 0) {
    strcpy(target, "?");
  } else {
    target[length] = '\0';
  }
  char line[4096 + 64];
  const int size = snprintf(line, sizeof line, "%s %s %d\n", name, target, rc);
  if (size <= 0) return;
  const size_t bytes = (size_t)size < sizeof line ? (size_t)size : sizeof line - 1;
  const int out = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (out < 0) return;
  const ssize_t written = write(out, line, bytes);
  (void)written;
  close(out);
}

static int wrapped(const char* name, int fd) {
  const int saved = errno;
  int rc;
  int error;
  if (told_to_fail()) {
    rc = -1;
    error = EIO;
  } else {
    const sync_function real = real_function(name);
    if (real == NULL) {
      rc = -1;
      error = ENOSYS;
    } else {
      errno = saved;
      rc = real(fd);
      error = errno;
    }
  }
  log_call(name, fd, rc);
  /* A success leaves errno as the caller had it; a failure, as the call
     (or the pretended EIO) set it, whatever the checks and the log did. */
  errno = rc == 0 ? saved : error;
  return rc;
}

int fsync(int fd) { return wrapped("fsync", fd); }

int fdatasync(int fd) { return wrapped("fdatasync", fd); }
