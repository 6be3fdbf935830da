// uvchat in a browser: the native protocol over a WebSocket to the server
// that served this page (docs/PROTOCOL.md, docs/WEB.md). This file wires
// the login, the conversations and the composer to the connection.
import {Connection} from './js/connection.js';
import {ChatModel} from './js/model.js';
import {error_words, fold, is_name, is_room, kMaxLineBytes, kMessageErrors, message_line, parse_line,
        register_line, utf8_length} from './js/protocol.js';
import {$, View} from './js/view.js';
import {Notifier} from './js/notify.js';

const kHistoryPage = 50;
const kHistoryMax = 500;     // the most server:history gives (4.6)

const model = new ChatModel();
const online = new Map();    // folded name -> name, from server:who and presence
let name = '';
let password = '';           // in memory only, to register again after a reconnect
let logged_in = false;       // a welcome came on this page, once
let registered = false;      // the current socket is registered
let active = model.everyone;
let refusal = '';            // why the server refused the last registration, while retrying
const outbox = [];           // messages written while disconnected
const in_flight = [];        // messages sent, not yet answered by a pong

const view = new View({open: open_conversation, resend});
const notifier = new Notifier($('notify'));
const connection = new Connection({
  on_open() {
    registered = false;
    connection.send(register_line(name, password));
  },
  on_line: handle_line,
  on_close: connection_lost,
  on_state: show_state,
});

// ---- Login ----

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const wanted = $('login-name').value.trim();
  if (!is_name(wanted)) {
    login_error(error_words('bad-name'));
    $('login-name').focus();
    return;
  }
  name = wanted;
  password = $('login-password').value;
  $('login-password').value = '';
  login_error('');
  $('login-submit').disabled = true;
  $('login-submit').textContent = 'Connecting…';
  connection.start();
});

function login_error(text) {
  $('login-error').textContent = text;
}

// Back to the login form, the reason in words; nothing more is retried.
function refuse(text) {
  connection.stop();
  password = '';
  $('login-submit').disabled = false;
  $('login-submit').textContent = 'Log in';
  $('login-screen').hidden = false;
  $('app').hidden = true;
  login_error(text);
  $('login-name').value = name;
  $('login-password').focus();
}

$('logout').addEventListener('click', () => {
  // The close comes after the exit line: WebSocket sends what it has first.
  connection.send('server:exit');
  connection.stop();
  password = '';
  // A new page is the surest way to forget everything of this session.
  setTimeout(() => location.reload(), 200);
});

// ---- Lines from the server ----

function handle_line(line) {
  const parsed = parse_line(line);
  if (parsed.kind === 'chat') {
    chat_line(parsed);
  } else if (parsed.kind === 'event') {
    const handler = kEvents[parsed.event];
    if (handler) handler(parsed.args, parsed.rest);
  }
}

function chat_line(chat) {
  const from_queue = model.batch !== null && model.batch.target === null && chat.date !== null;
  const added = model.add_chat(chat);
  if (!added) return;
  const {conv, message, live} = added;
  if (!message) {
    if (conv === active) render_later();
    return;
  }
  if (conv === active) {
    if (message.last && !render_timer) view.append_message(conv, message);
    else render_later();
  }
  if (message.own || !(live || from_queue)) return;
  if (conv !== active || document.hidden) conv.unread++;
  const where = conv.kind === 'direct' ? '' : ` in ${conv.title}`;
  if (live) view.announce(`${message.from}${where}: ${message.text}`);
  if (live && document.hidden) notifier.show(`${message.from}${where}`, message.text, conv.id, open_conversation);
  sidebar_later();
}

// A replay puts lines above others one by one: the list is drawn again
// once the burst is over, not once per line.
let render_timer = null;
let sidebar_timer = null;

function render_later() {
  if (render_timer) return;
  render_timer = setTimeout(() => {
    render_timer = null;
    view.render_messages(active, true);
  }, 30);
}

function sidebar_later() {
  if (sidebar_timer) return;
  sidebar_timer = setTimeout(() => {
    sidebar_timer = null;
    view.render_sidebar(model, active, online);
  }, 30);
}

const kEvents = {
  welcome(args) {
    name = args[0] || name;
    model.me = name;
    registered = true;
    refusal = '';
    connection.registered();
    const first = !logged_in;
    logged_in = true;
    if (first) show_app();
    show_state('open');
    connection.send('server:who');
    catch_up(first);
  },
  'queued-messages'(args) {
    const count = Number(args[0]) || 0;
    model.begin_batch(null, count);
    if (count > 0) {
      view.announce(`${count} ${count === 1 ? 'message' : 'messages'} waited for you`);
    }
  },
  history(args) {
    const conv = model.conversation(args[0]);
    const count = Number(args[1]) || 0;
    model.begin_batch(args[0], count);
    if (conv.joins_pending > 0) return;  // the replay that follows a join
    const asked = conv.asks ? conv.asks.shift() : undefined;
    if (asked !== undefined && count < asked) conv.history_done = true;
    if (conv === active) view.render_head(conv, online, model);
  },
  users(args) {
    online.clear();
    for (const who of args) online.set(fold(who), who);
    refresh();
  },
  online([who]) {
    if (who) online.set(fold(who), who);
    refresh();
  },
  offline([who]) {
    if (who) online.delete(fold(who));
    refresh();
  },
  joined([room, who]) {
    if (!room || !who) return;
    const conv = model.conversation(room);
    if (model.is_me(who)) {
      conv.joined = true;
    } else {
      conv.members.add(fold(who));
      conv.member_names.set(fold(who), who);
      notice(conv, `${who} joined ${room}`);
    }
    refresh();
  },
  members([room, ...names]) {
    if (!room) return;
    model.set_members(model.conversation(room), names);
    refresh();
  },
  left([room, who]) {
    if (!room || !who) return;
    const conv = model.conversation(room);
    if (model.is_me(who)) {
      conv.joined = false;
      conv.members.clear();
      conv.member_names.clear();
      notice(conv, `You left ${room}`);
    } else {
      conv.members.delete(fold(who));
      conv.member_names.delete(fold(who));
      notice(conv, `${who} left ${room}`);
    }
    refresh();
  },
  queued([who]) {
    const message = in_flight.find((m) => m.state === 'sending' && m.target && fold(m.target) === fold(who || ''));
    if (message) {
      message.state = 'queued';
      view.update_message(message);
    }
  },
  missed([count]) {
    notice(active, `${count} room or presence lines were missed while the connection was behind; room history has them.`);
  },
  shutdown() {
    refusal = 'The server is restarting.';
  },
  error(args, rest) {
    server_error(args[0] || '', rest.slice((args[0] || '').length + 1));
  },
};

function server_error(code, detail) {
  if (!registered) {
    register_error(code, detail);
    return;
  }
  const words = error_words(code, detail);
  if (kMessageErrors.has(code)) {
    const named = detail.split(' ')[0];
    const names_target = code === 'no-such-user' || code === 'queue-full' || code === 'not-in-room';
    const message = in_flight.find((m) => m.state === 'sending' && (!names_target || fold(m.target) === fold(named)));
    if (message) {
      message.state = 'failed';
      message.note = words;
      view.update_message(message);
      return;
    }
  }
  if (code === 'no-such-user' || code === 'not-in-room') {
    // The answer to a history: no page of it will come.
    const conv = model.find(detail.split(' ')[0]);
    if (conv && conv.asks) conv.asks = [];
  }
  if (code === 'bad-name') {
    $('open-error').textContent = words;
    return;
  }
  notice(active, words);
}

// An answer to server:register that is not a welcome.
function register_error(code, detail) {
  const words = error_words(code, detail);
  if (!logged_in) {
    refuse(words);
    return;
  }
  if (code === 'wrong-password') {
    refuse(words);
    return;
  }
  // name-taken after a reconnect: most likely this page's own socket of
  // before, which the server has not seen die yet. Try again later.
  refusal = words;
  connection.break_now();
}

// After a welcome: who is online, the rooms again, what they said while
// the page was away, and what the user wrote meanwhile.
function catch_up(first) {
  if (!first) {
    for (const conv of model.conversations.values()) {
      if (conv.kind === 'room' && conv.joined) join(conv, true);
      if (conv.kind === 'direct' && conv.history_asked > 0) ask_history(conv, kHistoryPage);
    }
  }
  for (const message of in_flight.splice(0)) {
    if (message.state === 'sending') fail_unconfirmed(message);
  }
  while (outbox.length > 0) transmit(outbox.shift());
}

function connection_lost() {
  registered = false;
  model.batch = null;
  if (!logged_in) {
    if ($('login-screen').hidden === false && $('login-submit').disabled) {
      refuse('Could not reach the server, or it closed the connection.');
    }
    return;
  }
  // What was sent but not answered may not have reached the server: the
  // user decides whether to send it again (a history may show it arrived).
  for (const message of in_flight.splice(0)) {
    if (message.state === 'sending') fail_unconfirmed(message);
  }
  // Answers the old socket owed will not come.
  for (const conv of model.conversations.values()) {
    conv.joins_pending = 0;
    conv.asks = [];
  }
}

function fail_unconfirmed(message) {
  message.state = 'failed';
  message.note = 'The connection dropped: this may not have been sent.';
  message.resendable = true;
  view.update_message(message);
}

// ---- Conversations ----

function open_conversation(id) {
  const conv = model.conversation(id);
  active = conv;
  conv.unread = 0;
  $('open-error').textContent = '';
  document.body.classList.remove('sidebar-open');
  $('show-sidebar').setAttribute('aria-expanded', 'false');
  view.render_head(conv, online, model);
  view.render_messages(conv, false);
  view.render_sidebar(model, active, online);
  if (conv.kind === 'direct' && conv.history_asked === 0 && registered) ask_history(conv, kHistoryPage);
  $('composer-text').focus();
}

function refresh() {
  sidebar_later();
  view.render_head(active, online, model);
}

function notice(conv, text) {
  const message = model.add_notice(conv, text);
  if (conv !== active) return;
  if (message.last && !render_timer) view.append_message(conv, message);
  else render_later();
}

function join(conv, again) {
  conv.joins_pending = (conv.joins_pending || 0) + 1;
  connection.send(`server:join ${conv.id}`);
  // The server answers in order: by the pong, the join's replay has come.
  connection.ping(() => {
    conv.joins_pending = Math.max(0, conv.joins_pending - 1);
  });
  if (again) ask_history(conv, Math.max(kHistoryPage, conv.history_asked));
}

function ask_history(conv, count) {
  const wanted = Math.min(count, kHistoryMax);
  conv.history_asked = Math.max(conv.history_asked, wanted);
  conv.asks = conv.asks || [];
  conv.asks.push(wanted);
  connection.send(`server:history ${conv.id} ${wanted}`);
}

function earlier() {
  const conv = active;
  if (conv.kind === 'all' || conv.history_done || !registered) return;
  if (conv.kind === 'room' && !conv.joined) return;
  if (conv.asks && conv.asks.length > 0) return;  // one page at a time
  const shown = conv.messages.filter((m) => !m.notice).length;
  if (conv.history_asked >= kHistoryMax) {
    conv.history_done = true;
    view.render_head(conv, online, model);
    return;
  }
  ask_history(conv, Math.max(shown, conv.history_asked) + kHistoryPage);
}

$('load-earlier').addEventListener('click', earlier);
$('scroller').addEventListener('scroll', () => {
  if ($('scroller').scrollTop < 40) earlier();
});

$('open-form').addEventListener('submit', (event) => {
  event.preventDefault();
  let target = $('open-target').value.trim();
  $('open-error').textContent = '';
  if (target === '') return;
  if (target.startsWith('#') || !is_name(target)) {
    if (!target.startsWith('#')) target = '#' + target;
    if (!is_room(target)) {
      $('open-error').textContent = `${target} is not a room or a name: 1 to 32 letters, digits, _ . or -.`;
      return;
    }
  }
  $('open-target').value = '';
  const conv = model.find(target) || model.conversation(target);
  if (conv.kind === 'room' && !conv.joined && registered) join(conv, false);
  open_conversation(conv.id);
});

$('conv-join').addEventListener('click', () => {
  if (registered) join(active, false);
});
$('conv-leave').addEventListener('click', () => {
  if (registered) connection.send(`server:leave ${active.id}`);
});

$('show-sidebar').addEventListener('click', () => {
  const open = document.body.classList.toggle('sidebar-open');
  $('show-sidebar').setAttribute('aria-expanded', String(open));
  if (open) {
    const current = document.querySelector('.conv.active');
    (current || $('open-target')).focus();
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && document.body.classList.contains('sidebar-open')) {
    document.body.classList.remove('sidebar-open');
    $('show-sidebar').setAttribute('aria-expanded', 'false');
    $('show-sidebar').focus();
  }
});

// ---- Composer ----

const composer = $('composer-text');

composer.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter' || event.isComposing) return;
  event.preventDefault();
  if (event.shiftKey) {
    // The protocol is one line per message: say so rather than send a newline.
    $('composer-hint').classList.remove('flash');
    void $('composer-hint').offsetWidth;
    $('composer-hint').classList.add('flash');
    return;
  }
  $('composer').requestSubmit();
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  // The server turns control characters into U+FFFD (PROTOCOL.md 1): the
  // page shows what the others will see, and what history will replay.
  const text = composer.value.replace(/[\r\n]+/g, ' ').trim()
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd');
  if (text === '') return;
  const conv = active;
  if (conv.kind === 'room' && !conv.joined) {
    notice(conv, `Join ${conv.id} to write here.`);
    return;
  }
  const target = conv.kind === 'all' ? '*' : conv.id;
  const line = message_line(target, text);
  if (utf8_length(line) > kMaxLineBytes) {
    notice(conv, `That message is too long (${utf8_length(text)} bytes); the server takes about ${kMaxLineBytes - target.length - 2}.`);
    return;
  }
  composer.value = '';
  fit_composer();
  const message = model.add_echo(conv, text);
  message.target = target;
  message.line = line;
  if (message.last && !render_timer) view.append_message(conv, message);
  else render_later();
  if (registered) {
    transmit(message);
  } else {
    message.note = 'will be sent when the connection is back';
    view.update_message(message);
    outbox.push(message);
  }
});

// The box grows with its text up to five rows, through its rows attribute:
// the page sets no inline style (the server's Content-Security-Policy).
function fit_composer() {
  composer.rows = 1;
  while (composer.rows < 5 && composer.scrollHeight > composer.clientHeight) composer.rows++;
}

composer.addEventListener('input', fit_composer);

function transmit(message) {
  message.state = 'sending';
  message.note = '';
  message.resendable = false;
  if (!connection.send(message.line)) {
    outbox.push(message);
    return;
  }
  in_flight.push(message);
  view.update_message(message);
  connection.ping(() => {
    const at = in_flight.indexOf(message);
    if (at >= 0) in_flight.splice(at, 1);
    if (message.state === 'sending') {
      message.state = null;
      view.update_message(message);
    }
  });
}

function resend(message) {
  if (registered) transmit(message);
  else outbox.push(message);
  view.update_message(message);
}

// ---- Connection state ----

function show_state(state, wait, why) {
  document.documentElement.dataset.connection = state === 'open' && registered ? 'online' : state;
  if (!logged_in) {
    if (state === 'waiting' || state === 'stopped') return;
    $('login-submit').textContent = state === 'open' ? 'Logging in…' : 'Connecting…';
    return;
  }
  if (state === 'open' && registered) view.status('Connected', 'ok');
  else if (state === 'open' || state === 'connecting') view.status('Connecting…', 'busy');
  else if (state === 'waiting') {
    countdown(Date.now() + (wait || 0), why || refusal);
    return;
  } else view.status('Disconnected', 'down');
  countdown(0);
}

// "Offline: trying again in N s", counting down to the next attempt.
let countdown_timer = null;

function countdown(until, reason) {
  clearInterval(countdown_timer);
  countdown_timer = null;
  if (!until) return;
  const tick = () => {
    const seconds = Math.max(1, Math.round((until - Date.now()) / 1000));
    view.status(`${reason ? reason + ' ' : ''}Offline: trying again in ${seconds} s`, 'down');
  };
  tick();
  countdown_timer = setInterval(tick, 1000);
}

function show_app() {
  $('login-screen').hidden = true;
  $('app').hidden = false;
  $('me').textContent = name;
  notifier.offer();
  open_conversation('*');
}

window.addEventListener('online', () => connection.hurry());
document.addEventListener('visibilitychange', () => {
  // A phone may have closed the socket while the page was in the background.
  if (!document.hidden) connection.hurry();
  if (!document.hidden && active.unread > 0) {
    active.unread = 0;
    view.render_sidebar(model, active, online);
  }
});

// For the browser tests (tests/browser): cut the socket as a network would.
window.uvchat_test = {drop: () => connection.break_now()};
