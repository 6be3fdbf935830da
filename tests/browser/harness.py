"""What the browser tests stand on: the real uvchatd on a free loopback port,
headless Chromium pages driven through chromedriver, and a plain socket
that speaks the native protocol as `nc` would.

Every wait has a bound: WebDriverWait for the pages, a deadline for the
socket. Nothing sleeps and hopes.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

kWait = 10  # seconds any one expected thing may take

CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')


def missing_tools():
    """What is missing to run the tests, in words, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'python3-selenium is not installed'
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f'{path} is missing (apt-get install chromium chromium-driver)'
    uvchatd = os.environ.get('UVCHATD', '')
    if not uvchatd or not os.access(uvchatd, os.X_OK):
        return f'UVCHATD={uvchatd!r} is not an executable (scripts/run-tests sets it)'
    return None


class Server:
    """uvchatd on 127.0.0.1 and a port the system picks, with its own database."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix='uvchat-browser-')
        self.log_path = os.path.join(self.dir, 'uvchatd.log')
        # The harness's usual options (tests/integration/harness.cpp): no
        # limits meant for strangers, no config file.
        argv = [os.environ['UVCHATD'], '--config', 'none', '--host', '127.0.0.1', '--port', '0',
                '--db', os.path.join(self.dir, 'uvchat.db'), '--log-level', 'info', '--rate', '0',
                '--max-per-ip', '0', '--max-registrations', '0', *args]
        self.log = open(self.log_path, 'w+b')
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.port = self._wait_for_port()
        self.origin = f'http://127.0.0.1:{self.port}'

    def _wait_for_port(self):
        deadline = time.monotonic() + kWait
        pattern = re.compile(rb'listening on \S+:(\d+)\n')
        while time.monotonic() < deadline:
            with open(self.log_path, 'rb') as log:
                found = pattern.search(log.read())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f'uvchatd did not log "listening on HOST:PORT"; its log:\n{self.log_text()}')

    def log_text(self):
        with open(self.log_path, 'rb') as log:
            return log.read().decode('utf-8', 'replace')

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class LineClient:
    """A native protocol user on a plain socket, as with nc."""

    def __init__(self, port):
        self.sock = socket.create_connection(('127.0.0.1', port), timeout=kWait)
        self.lines = []
        self.buffer = b''
        self.cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b''
            with self.cond:
                if not data:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.buffer += data
                while b'\n' in self.buffer:
                    line, self.buffer = self.buffer.split(b'\n', 1)
                    self.lines.append(line.decode('utf-8', 'replace'))
                self.cond.notify_all()

    def send(self, line):
        self.sock.sendall(line.encode() + b'\n')

    def wait_for(self, predicate, what):
        """The first line read so far (or within kWait) for which predicate holds."""
        deadline = time.monotonic() + kWait
        with self.cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(f'no line for {what}; lines: {self.lines[-20:]}')
                self.cond.wait(left)

    def wait_line(self, text):
        return self.wait_for(lambda line: line == text, repr(text))

    def wait_ending(self, text):
        return self.wait_for(lambda line: line.endswith(text), f'a line ending {text!r}')

    def register(self, name):
        self.send(f'server:register {name}')
        self.wait_line(f'server:welcome {name}')

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def make_driver(tmp, width=1280, height=800, scale=1, mobile=False):
    """A headless Chromium whose temporary files go to `tmp`: Chromium
    leaves a directory of its own in TMPDIR (org.chromium.Chromium.*) that
    chromedriver does not remove, one per browser, every run."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                '--no-first-run', '--disable-extensions', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--disable-default-apps',
                '--disable-features=Translate,OptimizationHints,MediaRouter',
                f'--window-size={width},{height}'):
        options.add_argument(arg)
    # Every request the page makes, for the test that none leaves the server.
    options.set_capability('goog:loggingPrefs', {'performance': 'ALL', 'browser': 'ALL'})
    # An alert must stay up to be seen, not be dismissed by the driver.
    options.set_capability('unhandledPromptBehavior', 'ignore')
    service = Service(CHROMEDRIVER, env=dict(os.environ, TMPDIR=tmp))
    driver = webdriver.Chrome(service=service, options=options)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                           {'width': width, 'height': height, 'deviceScaleFactor': scale, 'mobile': mobile})
    return driver


class Page:
    """One browser user of the web page."""

    def __init__(self, server, **size):
        self.server = server
        self.tmp = tempfile.mkdtemp(prefix='uvchat-chromium-')
        self.driver = make_driver(self.tmp, **size)
        self.name = None

    def wait(self, condition, what, timeout=kWait):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: condition())
        except TimeoutException:
            raise AssertionError(f'{self.name or "page"}: timed out waiting for {what}; '
                                 f'on screen: {self.visible_texts()[-12:]} status: {self.status()!r}') from None

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def load(self):
        self.driver.get(self.server.origin + '/')

    def login(self, name, password=None):
        from selenium.webdriver.common.by import By
        self.name = name
        self.load()
        self.driver.find_element(By.ID, 'login-name').send_keys(name)
        if password:
            self.driver.find_element(By.ID, 'login-password').send_keys(password)
        self.driver.find_element(By.ID, 'login-submit').click()
        self.wait_online()

    def wait_online(self):
        self.wait(lambda: self.js('return document.documentElement.dataset.connection') == 'online',
                  'the page to be connected and registered')

    def set_offline(self, offline):
        """Chromium's network emulation: new connections fail while offline."""
        self.driver.execute_cdp_cmd('Network.enable', {})
        self.driver.execute_cdp_cmd('Network.emulateNetworkConditions',
                                    {'offline': offline, 'latency': 0, 'downloadThroughput': -1,
                                     'uploadThroughput': -1})

    def status(self):
        return self.js("return document.getElementById('status').textContent")

    def login_error(self):
        return self.js("return document.getElementById('login-error').textContent")

    def open(self, target):
        """Opens a conversation through the sidebar's form: "#room" joins."""
        from selenium.webdriver.common.by import By
        field = self.driver.find_element(By.ID, 'open-target')
        if not field.is_displayed():
            self.driver.find_element(By.ID, 'show-sidebar').click()
        field.send_keys(target)
        field.submit()
        self.wait(lambda: self.js("return document.getElementById('conv-title').textContent") ==
                  ('Everyone' if target == '*' else target), f'{target} to be open')
        if target.startswith('#'):
            self.wait(lambda: self.js("return !document.getElementById('conv-leave').hidden"),
                      f'{target} to be joined')

    def click_conversation(self, conv_id):
        self.wait(lambda: self.js(
            "return [...document.querySelectorAll('button.conv')].some((b) => b.dataset.conv === arguments[0])",
            conv_id), f'{conv_id} in the sidebar')
        found = self.js("""
            const button = [...document.querySelectorAll('button.conv')].find((b) => b.dataset.conv === arguments[0]);
            if (!button) return false;
            if (button.offsetParent === null) document.getElementById('show-sidebar').click();
            button.click();
            return true;""", conv_id)
        assert found, f'no conversation {conv_id} in the sidebar'

    def send(self, text):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        box = self.driver.find_element(By.ID, 'composer-text')
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self.wait(lambda: self.js("""return [...document.querySelectorAll('#messages .msg.own')]
                .some((m) => m.querySelector('.text').textContent === arguments[0] && !m.querySelector('.state'))""",
                                  text), f'{text!r} to be sent')

    def texts(self):
        """The texts of the messages of the open conversation, in order."""
        return self.js("return [...document.querySelectorAll('#messages .msg .text')].map((n) => n.textContent)")

    def visible_texts(self):
        try:
            return self.js("return [...document.querySelectorAll('#messages .msg')].map((n) => n.textContent)")
        except Exception:  # noqa: BLE001 (only for an error message)
            return []

    def wait_text(self, text):
        self.wait(lambda: text in self.texts(), f'{text!r} on screen')

    def unread(self, conv_id):
        return self.js("""
            const button = [...document.querySelectorAll('button.conv')].find((b) => b.dataset.conv === arguments[0]);
            const badge = button && button.querySelector('.badge');
            return badge ? Number(badge.textContent) : 0;""", conv_id)

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)
