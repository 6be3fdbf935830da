// The native protocol (docs/PROTOCOL.md), as the page reads and writes it:
// one WebSocket text message is one line, without its line end. Pure: no
// DOM, no socket, so it reads like the document it follows.

// A name: 1-32 of A-Z a-z 0-9 _ . -, the first a letter or a digit (2).
export const kNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;
const kRoomPattern = /^#[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

// The server's default --max-line. The page cannot know the real one; a
// longer line is refused by the server with line-too-long, which the page
// shows too.
export const kMaxLineBytes = 4096;

export function is_name(text) {
  return kNamePattern.test(text) && !/^(server|all)$/i.test(text);
}

export function is_room(text) {
  return kRoomPattern.test(text);
}

// Names and rooms are case-insensitive (2): one key per user or room.
export function fold(name) {
  return name.toLowerCase();
}

export function register_line(name, password) {
  return password ? `server:register ${name} ${password}` : `server:register ${name}`;
}

// A message to a conversation id: a name, "#room", or "*" for everyone.
export function message_line(target, text) {
  return `${target}: ${text}`;
}

export function utf8_length(text) {
  return new TextEncoder().encode(text).length;
}

// `[HH:MM:SS] ...` (live) or `[YYYY-MM-DD HH:MM:SS] ...` (replayed).
const kChatLine = /^\[(?:(\d{4}-\d{2}-\d{2}) )?(\d{2}:\d{2}:\d{2})\] (.*)$/s;
// After the time: `#room alice: TEXT`, `* alice: TEXT` or `alice: TEXT`.
const kRoomBody = /^(#\S+) (\S+?): (.*)$/s;
const kBroadcastBody = /^\* (\S+?): (.*)$/s;
const kDirectBody = /^(\S+?): (.*)$/s;

// A server line as an object:
//   {kind: 'chat', scope: 'room'|'all'|'direct', room?, from, text, date?, time}
//   {kind: 'event', event, args: [...], rest}   for `server:EVENT ARGS`
//   {kind: 'unknown', line}
export function parse_line(line) {
  const chat = kChatLine.exec(line);
  if (chat) return parse_chat(chat[1] || null, chat[2], chat[3], line);
  if (line.toLowerCase().startsWith('server:')) {
    const rest = line.slice('server:'.length);
    const space = rest.indexOf(' ');
    const event = (space < 0 ? rest : rest.slice(0, space)).toLowerCase();
    const tail = space < 0 ? '' : rest.slice(space + 1);
    return {kind: 'event', event, rest: tail, args: tail === '' ? [] : tail.split(' ')};
  }
  return {kind: 'unknown', line};
}

function parse_chat(date, time, body, line) {
  let m = kRoomBody.exec(body);
  if (m) return {kind: 'chat', scope: 'room', room: m[1], from: m[2], text: m[3], date, time};
  m = kBroadcastBody.exec(body);
  if (m) return {kind: 'chat', scope: 'all', from: m[1], text: m[2], date, time};
  m = kDirectBody.exec(body);
  if (m) return {kind: 'chat', scope: 'direct', from: m[1], text: m[2], date, time};
  return {kind: 'unknown', line};
}

// `server:error CODE DETAIL` in words, for people (5). DETAIL, where it
// starts with a name, is exactly that name.
export function error_words(code, detail) {
  const first = (detail || '').split(' ')[0];
  switch (code) {
    case 'name-taken':
      return `The name ${first} is in use right now, on another connection.`;
    case 'wrong-password':
      return /one attempt/.test(detail)
          ? 'Another attempt to log in as this name is under way; try again in a moment.'
          : `Wrong or missing password for ${first}.`;
    case 'bad-name':
      return 'That name is not allowed: 1 to 32 letters, digits, _ . or -, starting with a letter or a digit (not "server" or "all").';
    case 'already-registered':
      return `You are already logged in as ${first}.`;
    case 'rate-limited':
      return 'Too many logins from your address in the last minute; wait a little and try again.';
    case 'server-full':
      return 'The server is full right now; try again later.';
    case 'idle-timeout':
      return 'The server closed the connection after a time without a login or without activity.';
    case 'no-such-user':
      return `There is no user called ${first} (only people who have logged in once can receive messages).`;
    case 'not-in-room':
      return `You are not in ${first}; join it first.`;
    case 'empty-message':
      return 'An empty message was not sent.';
    case 'queue-full':
      return `${first} has too many messages waiting; this one was not kept.`;
    case 'line-too-long':
      return 'That message is too long for the server.';
    case 'bad-utf8':
      return 'The server could not read that message (it was not UTF-8).';
    case 'too-slow':
      return 'The connection was too slow and the server cut it; reconnecting.';
    case 'unavailable':
      return 'The server could not read your waiting messages; they stay waiting for the next login.';
    case 'not-registered':
      return 'Not logged in yet.';
    case 'unknown-command':
      return `The server did not understand that (${detail}).`;
    case 'tls-required':
      return 'The server requires an encrypted connection (https).';
    default:
      return `The server said: ${code}${detail ? ' ' + detail : ''}`;
  }
}

// The errors that answer a message the page sent, with what DETAIL names.
export const kMessageErrors = new Set(['no-such-user', 'not-in-room', 'empty-message', 'queue-full',
                                       'line-too-long', 'bad-utf8']);
