#!/usr/bin/python3
"""The web page in a real browser (headless Chromium) against the real
uvchatd: docs/WEB.md's promises, as a user on a phone or a laptop meets them.

    UVCHATD=build/uvchatd /usr/bin/python3 tests/browser/test_web.py [NAME...]

Ends with a line in Catch2's words, which scripts/run-tests counts. Without
Chromium, chromedriver or selenium it skips ("No tests ran"), unless CI=true,
where that is a failure. Screenshots go to $UVCHAT_ARTIFACTS, or
build/test-artifacts/.
"""

import json
import os
import re
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import LineClient, Page, Server  # noqa: E402

XSS_SCRIPT = '<script>alert(1)</script>'
XSS_IMG = '<img src=x onerror=alert(2)>'


def test_browsers_and_nc_exchange_dms_and_room_lines():
    server = Server()
    alice, bob, carol = Page(server), Page(server), None
    try:
        alice.login('alice')
        bob.login('bob')
        carol = LineClient(server.port)
        carol.register('carol')

        # DMs, browser to browser, both ways.
        alice.open('bob')
        alice.send('hi bob, from a browser')
        bob.click_conversation('alice')
        bob.wait_text('hi bob, from a browser')
        bob.send('hi alice, from another browser')
        alice.wait_text('hi alice, from another browser')

        # DMs between a browser and nc, both ways, for each browser.
        carol.send('alice: hello alice, from nc')
        alice.click_conversation('carol')
        alice.wait_text('hello alice, from nc')
        alice.send('hello carol, from a browser')
        carol.wait_ending('] alice: hello carol, from a browser')
        bob.open('carol')
        bob.send('bob to carol')
        carol.wait_ending('] bob: bob to carol')
        carol.send('bob: carol to bob')
        bob.wait_text('carol to bob')

        # A room, every direction.
        alice.open('#team')
        bob.open('#team')
        carol.send('server:join #team')
        carol.wait_line('server:joined #team carol')
        alice.send('alice in the room')
        bob.wait_text('alice in the room')
        carol.wait_ending('] #team alice: alice in the room')
        bob.send('bob in the room')
        alice.wait_text('bob in the room')
        carol.wait_ending('] #team bob: bob in the room')
        carol.send('#team: carol in the room')
        alice.wait_text('carol in the room')
        bob.wait_text('carol in the room')

        # bob leaves: the others are told, and the room's lines stop reaching him.
        bob.js("document.getElementById('conv-leave').click()")
        bob.wait(lambda: bob.js("return !document.getElementById('conv-join').hidden"), 'the Join button')
        alice.wait(lambda: 'bob left #team' in ' '.join(alice.visible_texts()), 'the notice that bob left')
        carol.wait_line('server:left #team bob')
        carol.send('#team: after bob left')
        alice.wait_text('after bob left')
        assert 'after bob left' not in bob.texts()

        # Everyone: a broadcast from nc reaches both pages.
        carol.send('*: hello everyone')
        for page in (alice, bob):
            page.click_conversation('*')
            page.wait_text('hello everyone')
    finally:
        for page in (alice, bob):
            page.quit()
        if carol:
            carol.close()
        server.stop()


def test_dm_to_a_closed_page_shows_when_it_comes_back():
    server = Server()
    alice = Page(server)
    carol = None
    try:
        alice.login('alice')
        carol = LineClient(server.port)
        carol.register('carol')
        alice.quit()  # the tab is closed
        carol.wait_line('server:offline alice')
        carol.send('alice: while you were away')
        carol.wait_line('server:queued alice')

        alice = Page(server)
        alice.login('alice')
        alice.wait(lambda: alice.unread('carol') == 1, 'an unread count of 1 for carol')
        alice.click_conversation('carol')
        alice.wait_text('while you were away')
        assert alice.texts().count('while you were away') == 1
    finally:
        alice.quit()
        if carol:
            carol.close()
        server.stop()


def test_dropped_socket_reconnects_and_shows_what_it_missed_once():
    from selenium.webdriver.common.keys import Keys
    server = Server()
    alice = Page(server)
    carol = None
    try:
        # The browser is 14 hours ahead of the server (often on another
        # day): the page must still place and recognise lines by the
        # server's clock.
        alice.driver.execute_cdp_cmd('Emulation.setTimezoneOverride', {'timezoneId': 'Pacific/Kiritimati'})
        alice.login('alice')
        carol = LineClient(server.port)
        carol.register('carol')
        carol.send('server:join #team')
        alice.open('#team')
        carol.send('#team: before the drop')
        alice.wait_text('before the drop')
        alice.send('mine before the drop')
        alice.click_conversation('carol')
        carol.send('alice: dm before the drop')
        alice.wait_text('dm before the drop')

        # The network goes (Chromium's offline mode keeps an open WebSocket
        # up, so the page's test hook closes it); the page tries again and
        # fails, and waits longer each time. Meanwhile carol writes.
        alice.set_offline(True)
        alice.js('window.uvchat_test.drop()')
        carol.wait_line('server:left #team alice')
        alice.wait(lambda: re.search(r'Offline: trying again in ([2-9]|[1-9][0-9]) s', alice.status()),
                   'a second attempt to fail, and a longer wait')
        carol.send('alice: dm while dropped')
        carol.wait_line('server:queued alice')
        carol.send('#team: room line while dropped')
        alice.click_conversation('#team')
        alice.driver.switch_to.active_element.send_keys('written while offline', Keys.ENTER)
        alice.wait(lambda: 'will be sent when the connection is back' in ' '.join(alice.visible_texts()),
                   'the message to wait for the connection')
        alice.click_conversation('carol')

        # Back online: the page does not wait for its backoff.
        alice.set_offline(False)
        alice.wait_online()
        carol.wait_ending('] #team alice: written while offline')
        alice.wait(lambda: alice.texts() == ['dm before the drop', 'dm while dropped'],
                   'each DM once, in order')
        alice.click_conversation('#team')
        alice.wait_text('room line while dropped')
        # Rejoining replays the room's history: nothing shows twice.
        alice.wait(lambda: alice.texts() == ['before the drop', 'mine before the drop', 'room line while dropped',
                                             'written while offline'],
                   'each room line once, in order')
        status = alice.status()
        assert status == 'Connected', status
    finally:
        alice.quit()
        if carol:
            carol.close()
        server.stop()


def test_history_loads_on_scroll_up_in_order_and_once():
    server = Server()
    alice = Page(server)
    carol = None
    try:
        carol = LineClient(server.port)
        carol.register('carol')
        carol.send('server:join #log')
        lines = [f'line {n:03}' for n in range(1, 121)]
        for line in lines:
            carol.send(f'#log: {line}')
        carol.send('server:ping')
        carol.wait_line('server:pong')
        alice.login('alice')
        alice.open('#log')
        alice.wait_text('line 120')
        # The join replays the last few; each scroll to the top asks for more.
        for _ in range(10):
            if alice.texts() == lines:
                break
            shown = len(alice.texts())
            alice.js("document.getElementById('scroller').scrollTop = 0;"
                     "document.getElementById('scroller').dispatchEvent(new Event('scroll'))")
            alice.wait(lambda: len(alice.texts()) > shown or alice.texts() == lines, 'an earlier page')
        assert alice.texts() == lines, alice.texts()
        alice.wait(lambda: alice.js("return document.getElementById('load-earlier').hidden"),
                   'no more to load once the history is whole')
    finally:
        alice.quit()
        if carol:
            carol.close()
        server.stop()


def test_keyboard_alone_logs_in_sends_and_switches_conversation():
    from selenium.webdriver.common.keys import Keys
    server = Server()
    page = Page(server)
    bob = None
    try:
        bob = LineClient(server.port)
        bob.register('bob')
        page.load()
        page.name = 'alice'
        keys = page.driver.switch_to.active_element
        keys.send_keys('alice', Keys.ENTER)  # the name field has the focus; no password
        page.wait_online()
        page.driver.switch_to.active_element.send_keys('hello everyone, by keyboard', Keys.ENTER)
        bob.wait_ending('] * alice: hello everyone, by keyboard')
        # Tab through the page to bob's entry in the sidebar, and open it with Enter.
        for _ in range(30):
            focused = page.driver.switch_to.active_element
            if focused.get_attribute('data-conv') == 'bob':
                break
            focused.send_keys(Keys.TAB)
        else:
            raise AssertionError('Tab never reached bob in the sidebar')
        focused.send_keys(Keys.ENTER)
        page.wait(lambda: page.js("return document.getElementById('conv-title').textContent") == 'bob',
                  'the DM with bob to open')
        page.driver.switch_to.active_element.send_keys('and a DM', Keys.ENTER)
        bob.wait_ending('] alice: and a DM')
        bob.send('alice: heard you')
        page.wait(lambda: page.js("return document.getElementById('announcer').textContent") == 'bob: heard you',
                  'the new message announced to screen readers')
    finally:
        page.quit()
        if bob:
            bob.close()
        server.stop()


def test_notifications_when_hidden_after_the_user_allows():
    server = Server()
    page = Page(server)
    bob = None
    try:
        page.login('alice')
        # The Notification API stands in for the browser's, which a headless
        # one has no screen for; and the tab is told it is hidden.
        page.js("""
            window.test_notes = [];
            window.test_asked = 0;
            window.Notification = class {
              constructor(title, options) { window.test_notes.push([title, options.body]); }
              addEventListener() {}
              close() {}
              static requestPermission() { window.test_asked++; this.permission = 'granted';
                                           return Promise.resolve('granted'); }
            };
            window.Notification.permission = 'default';""")
        page.js("document.getElementById('notify').hidden = false; document.getElementById('notify').click()")
        page.wait(lambda: page.js('return window.test_asked') == 1, 'permission asked on the click')
        page.wait(lambda: page.js("return document.getElementById('notify').hidden"), 'the button to go once allowed')
        bob = LineClient(server.port)
        bob.register('bob')
        bob.send('alice: while you look')
        page.click_conversation('bob')
        page.wait_text('while you look')
        assert page.js('return window.test_notes') == [], 'a notification while the page is seen'
        page.js("""Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});""")
        bob.send(f'alice: {XSS_IMG} while you are away')
        page.wait(lambda: page.js('return window.test_notes') == [['bob', f'{XSS_IMG} while you are away']],
                  'one notification, its text as sent')
    finally:
        page.quit()
        if bob:
            bob.close()
        server.stop()


def test_html_in_messages_shows_as_text():
    server = Server()
    alice, bob = Page(server), Page(server)
    carol = None
    try:
        alice.login('alice')
        bob.login('bob')
        carol = LineClient(server.port)
        carol.register('carol')
        carol.send(f'alice: {XSS_SCRIPT}')
        carol.send(f'alice: {XSS_IMG}')
        alice.click_conversation('carol')
        alice.wait_text(XSS_SCRIPT)
        alice.wait_text(XSS_IMG)
        bob.open('alice')
        bob.send(f'{XSS_IMG} {XSS_SCRIPT}')
        alice.click_conversation('bob')
        alice.wait_text(f'{XSS_IMG} {XSS_SCRIPT}')
        for page in (alice, bob):
            found = page.js("return document.querySelectorAll('#app script, #app img:not(.brand img)').length")
            assert found == 0, f'{found} script or img elements made from messages'
            assert_no_alert(page)
    finally:
        for page in (alice, bob):
            page.quit()
        if carol:
            carol.close()
        server.stop()


def assert_no_alert(page):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        alert = page.driver.switch_to.alert
        text = alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f'an alert came up: {text!r}')


def test_page_scripts_have_no_html_sinks():
    # Belt and braces beside the test above: the scripts, as served, never
    # hand a string to the HTML parser or set inline styles (which the
    # Content-Security-Policy would refuse).
    import urllib.request
    server = Server()
    try:
        sinks = ('innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function',
                 '.style.', 'setAttribute(\'style')
        with urllib.request.urlopen(server.origin + '/', timeout=harness.kWait) as answer:
            page = answer.read().decode()
        assert '<script>' not in page and 'style=' not in page, 'inline script or style in index.html'
        scripts = ['/app.js'] + ['/js/' + name for name in ('connection.js', 'model.js', 'notify.js', 'protocol.js',
                                                           'view.js')]
        for path in scripts:
            with urllib.request.urlopen(server.origin + path, timeout=harness.kWait) as answer:
                assert answer.headers['Content-Type'] == 'text/javascript; charset=utf-8', path
                source = answer.read().decode()
            found = [sink for sink in sinks if sink in source]
            assert not found, f'{path} uses {found}'
    finally:
        server.stop()


def test_wrong_password_is_told_in_words():
    server = Server()
    first = Page(server)
    second = None
    try:
        first.login('dora', 'correct horse')
        first.quit()
        second = Page(server)
        second.load()
        second.js("""document.getElementById('login-name').value = 'dora';
                     document.getElementById('login-password').value = 'wrong';
                     document.getElementById('login-submit').click();""")
        second.wait(lambda: 'Wrong or missing password' in second.login_error(), 'the wrong-password words')
        second.js("""document.getElementById('login-password').value = 'correct horse';
                     document.getElementById('login-submit').click();""")
        second.wait_online()
    finally:
        first.quit()
        if second:
            second.quit()
        server.stop()


def test_phone_layout_has_no_horizontal_scroll():
    server = Server()
    phone = Page(server, width=360, height=740, scale=2, mobile=True)
    carol = None
    try:
        phone.login('alice')
        assert_no_horizontal_scroll(phone, 'the conversation')
        carol = LineClient(server.port)
        carol.register('carol_with_a_rather_long_name_x')
        carol.send('alice: ' + 'averyveryverylongwordwithoutanyspaces' * 4 + ' and then words')
        phone.click_conversation('carol_with_a_rather_long_name_x')
        phone.wait_text('averyveryverylongwordwithoutanyspaces' * 4 + ' and then words')
        assert_no_horizontal_scroll(phone, 'a long unbroken message')
        phone.js("document.getElementById('show-sidebar').click()")
        phone.wait(lambda: phone.js("return document.body.classList.contains('sidebar-open')"), 'the sidebar')
        assert_no_horizontal_scroll(phone, 'the open sidebar')
    finally:
        phone.quit()
        if carol:
            carol.close()
        server.stop()


def assert_no_horizontal_scroll(page, where):
    widths = page.js("""const e = document.documentElement;
                        return [e.scrollWidth, e.clientWidth, document.body.scrollWidth];""")
    assert widths[0] <= widths[1] and widths[2] <= widths[1], f'horizontal scroll with {where}: {widths}'


def test_page_loads_nothing_from_elsewhere():
    server = Server()
    page = Page(server)
    try:
        page.login('alice')
        page.open('#team')
        page.send('hello')
        urls = []
        for entry in page.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            params = message.get('params', {})
            if message['method'] == 'Network.requestWillBeSent':
                urls.append(params['request']['url'])
            elif message['method'] == 'Network.webSocketCreated':
                urls.append(params['url'])
        urls += page.js("return performance.getEntries().map((e) => e.name).filter((n) => n.includes(':'))")
        ours = (f'http://127.0.0.1:{server.port}/', f'ws://127.0.0.1:{server.port}/')
        assert any(url.startswith(ours[1]) for url in urls), f'no WebSocket among {urls}'
        foreign = [url for url in urls if not url.startswith(ours)]
        assert not foreign, f'requests leaving the server: {foreign}'
        errors = [e for e in page.driver.get_log('browser') if e['level'] == 'SEVERE']
        assert not errors, f'console errors (a CSP violation?): {errors}'
    finally:
        page.quit()
        server.stop()


def test_screenshots_of_desktop_and_phone():
    artifacts = os.environ.get('UVCHAT_ARTIFACTS') or os.path.join('build', 'test-artifacts')
    os.makedirs(artifacts, exist_ok=True)
    server = Server()
    desktop = Page(server, width=1200, height=760)
    phone = Page(server, width=360, height=740, scale=2, mobile=True)
    users = []
    try:
        desktop.login('alice')
        for name in ('bob', 'carol', 'dave'):
            user = LineClient(server.port)
            user.register(name)
            user.send('server:join #team')
            users.append(user)
        bob, carol, dave = users
        desktop.open('#team')
        carol.send('#team: Morning! Standup in 5 minutes, same room as yesterday.')
        desktop.wait_text('Morning! Standup in 5 minutes, same room as yesterday.')
        desktop.send('On my way. Can someone share the notes from Friday?')
        bob.wait_ending('Can someone share the notes from Friday?')
        bob.send('#team: Sure, they are in the wiki under Sprint 12.')
        dave.send('#team: Running 2 minutes late, the tram is slow today')
        desktop.wait_text('Running 2 minutes late, the tram is slow today')
        bob.send('alice: can you review my pull request after the standup?')
        dave.send('*: Pizza in the kitchen at noon')
        desktop.wait(lambda: desktop.unread('bob') == 1, 'an unread DM from bob')
        desktop.send('Thanks bob!')
        desktop.driver.save_screenshot(os.path.join(artifacts, 'desktop.png'))

        phone.login('erin')
        phone.open('#team')
        carol.send('#team: erin, welcome to the team!')
        phone.wait_text('erin, welcome to the team!')
        phone.send('Thanks! Happy to be here')
        dave.send('#team: Lunch together later?')
        phone.wait_text('Lunch together later?')
        phone.driver.save_screenshot(os.path.join(artifacts, 'phone.png'))
        phone.js("document.getElementById('show-sidebar').click()")
        phone.driver.save_screenshot(os.path.join(artifacts, 'phone-sidebar.png'))
        print(f'screenshots in {artifacts}/: desktop.png phone.png phone-sidebar.png')
    finally:
        desktop.quit()
        phone.quit()
        for user in users:
            user.close()
        server.stop()


TESTS = [value for key, value in list(globals().items()) if key.startswith('test_') and callable(value)]


def main(selected):
    missing = harness.missing_tools()
    if missing:
        if os.environ.get('CI') == 'true':
            print(f'browser tests: {missing}, and CI=true needs them')
            print('test cases: 1 | 1 failed')
            return 1
        print(f'browser tests skipped: {missing}')
        print('No tests ran')
        return 0
    tests = [test for test in TESTS if not selected or test.__name__ in selected]
    passed = failed = 0
    for test in tests:
        started = time.monotonic()
        try:
            test()
        except Exception:  # noqa: BLE001: every failure is reported and counted
            failed += 1
            print(f'FAILED {test.__name__}\n{traceback.format_exc()}', flush=True)
            continue
        passed += 1
        print(f'passed {test.__name__} ({time.monotonic() - started:.1f} s)', flush=True)
    print('=' * 79)
    if failed == 0:
        print(f'All tests passed ({passed} assertions in {passed} test cases)')
    else:
        print(f'test cases: {passed + failed} | {passed} passed | {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
