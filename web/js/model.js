// The page's conversations and their messages, without the DOM: what the
// server's chat lines add, and how a line that comes twice (a reconnect
// replays the offline queue, a join replays history) is shown once.
import {fold} from './protocol.js';

const kDay = 86400;

// Seconds of the day of "HH:MM:SS".
function seconds_of(time) {
  const [h, m, s] = time.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

function two(n) {
  return String(n).padStart(2, '0');
}

// The date and time of a Date as the server writes them, in the browser's
// own zone (the clock offset below makes that the server's).
export function stamp_of(date) {
  return {
    date: `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`,
    time: `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`,
  };
}

// The identity of a chat line, for seeing the same line again. The protocol
// has no message ids: sender, second, text and conversation are what a line
// has. Live lines carry no date, so the date is not part of it; the same
// text from the same sender in the same conversation at the same second of
// another day is taken for the same line (see counts below for two in one
// second).
// Live lines sort after replayed ones of the same second.
const kLive = 1e9;

function before(a, b) {
  const left = `${a.date} ${a.time}`;
  const right = `${b.date} ${b.time}`;
  return left < right || (left === right && a.rank < b.rank);
}

function line_key(from, time, text) {
  return `${fold(from)}\u0000${time}\u0000${text}`;
}

export class Conversation {
  constructor(id, kind) {
    this.id = id;                 // "alice", "#team" or "*"
    this.kind = kind;             // 'direct', 'room' or 'all'
    this.messages = [];           // sorted by date and time, then arrival
    this.by_key = new Map();      // line_key -> the messages on screen with it, in order
    this.echoes = [];             // own messages the server has not replayed yet
    this.unread = 0;
    this.joined = false;          // rooms: a member now (or to be rejoined)
    this.members = new Set();     // rooms: folded names -> shown names below
    this.member_names = new Map();
    this.history_asked = 0;       // lines asked for with server:history
    this.history_done = false;    // the server had no more than that
  }
  get title() {
    return this.kind === 'all' ? 'Everyone' : this.id;
  }
}

export class ChatModel {
  constructor() {
    this.me = '';
    this.conversations = new Map();  // folded id -> Conversation
    this.offset = null;              // server clock - browser clock, seconds, once known
    this.batch = null;               // {target, left, counts}: a replay under way
    this.seq = 0;
    this.everyone = this.conversation('*');
  }

  conversation(id) {
    const key = fold(id);
    let conv = this.conversations.get(key);
    if (!conv) {
      const kind = id === '*' ? 'all' : id.startsWith('#') ? 'room' : 'direct';
      conv = new Conversation(id, kind);
      this.conversations.set(key, conv);
    }
    return conv;
  }

  find(id) {
    return this.conversations.get(fold(id)) || null;
  }

  is_me(name) {
    return fold(name) === fold(this.me);
  }

  // The server's time now, as it would write it.
  server_now() {
    return stamp_of(new Date(Date.now() + (this.offset || 0) * 1000));
  }

  // A live line's time tells the server's clock (and zone) against ours.
  learn_offset(time) {
    const now = stamp_of(new Date());
    let delta = (seconds_of(time) - seconds_of(now.time)) % kDay;
    if (delta >= kDay / 2) delta -= kDay;
    if (delta < -kDay / 2) delta += kDay;
    this.offset = delta;
  }

  // `server:history TARGET N` or `server:queued-messages N`: N replayed
  // lines follow (TARGET null for the queue).
  begin_batch(target, count) {
    this.batch = count > 0 ? {target, left: count, index: 0, counts: new Map()} : null;
  }

  // A chat line from the server (protocol.parse_line). Returns {conv,
  // message, live}: message is the new one to show, or null when the line
  // was on screen already (the conversation may have been reordered).
  add_chat(chat) {
    const replayed = chat.date !== null;
    const batch = replayed ? this.batch : null;
    if (batch && --batch.left <= 0) this.batch = null;
    const conv = this.conversation(this.conversation_of(chat, batch));
    if (!replayed) this.learn_offset(chat.time);
    const stamp = replayed ? {date: chat.date, time: chat.time} : this.server_now_at(chat.time);
    const key = line_key(chat.from, chat.time, chat.text);
    const copies = conv.by_key.get(key) || [];
    conv.by_key.set(key, copies);
    if (!replayed) {
      const message = this.insert(conv, chat.from, chat.text, stamp, {rank: kLive + this.seq});
      copies.push(message);
      return {conv, message, live: true};
    }
    // The n-th copy of a line in a replay is the n-th on screen, if there
    // is one: a line replayed twice shows once, and two equal lines in one
    // second both. A replay is in the server's order, which the lines it
    // names take (lines of one second are otherwise in order of arrival).
    const rank = batch ? batch.index++ : 0;
    const counts = batch ? batch.counts : new Map();
    const seen = (counts.get(key) || 0) + 1;
    counts.set(key, seen);
    let known = seen <= copies.length ? copies[seen - 1] : null;
    if (!known && this.is_me(chat.from)) {
      known = this.confirm_echo(conv, chat.text, stamp);
      if (known) copies.push(known);
    }
    if (known) Object.assign(known, {rank, date: stamp.date, time: stamp.time});
    const message = known ? null : this.insert(conv, chat.from, chat.text, stamp, {rank});
    if (message) copies.push(message);
    // Ranks of an earlier replay may disagree with this one's until it
    // has named all its lines: the whole list is sorted again (stable, and
    // cheap on a list that is nearly in order).
    conv.messages.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    if (message) message.last = conv.messages[conv.messages.length - 1] === message;
    return {conv, message, live: false};
  }

  conversation_of(chat, batch) {
    if (chat.scope === 'room') return chat.room;
    if (chat.scope === 'all') return '*';
    // A DM's history has both sides: our own lines belong to its target.
    if (batch && batch.target && !batch.target.startsWith('#')) return batch.target;
    return chat.from;
  }

  // A live line has only a time: its date is the server's today, unless
  // the time is ahead of the server's clock by hours (it was yesterday's).
  server_now_at(time) {
    const now = new Date(Date.now() + (this.offset || 0) * 1000);
    const stamp = stamp_of(now);
    if (seconds_of(time) - seconds_of(stamp.time) > kDay / 2) {
      stamp.date = stamp_of(new Date(now.getTime() - kDay * 1000)).date;
    }
    stamp.time = time;
    return stamp;
  }

  insert(conv, from, text, stamp, extra = {}) {
    const message = {
      seq: ++this.seq,
      from,
      text,
      date: stamp.date,
      time: stamp.time,
      own: this.is_me(from),
      state: null,
      rank: kLive + this.seq,
      ...extra,
    };
    this.place(conv, message);
    return message;
  }

  // In order of date and time; within a second, replayed lines in the
  // server's order, then live ones in order of arrival.
  place(conv, message) {
    let at = conv.messages.length;
    while (at > 0 && before(message, conv.messages[at - 1])) at--;
    conv.messages.splice(at, 0, message);
    message.last = at === conv.messages.length - 1;
  }


  // What the user sent: the server sends no copy back (4.1), so the page
  // shows it at once, at the server's time as best known.
  add_echo(conv, text) {
    const message = this.insert(conv, this.me, text, this.server_now(), {state: 'sending'});
    conv.echoes.push(message);
    return message;
  }

  // A replayed line of ours is the echo already shown, when one has its
  // text and was sent about then (within 5 minutes of the server's time, if
  // the page knows the server's clock).
  confirm_echo(conv, text, stamp) {  // the echo, or null
    const index = conv.echoes.findIndex((echo) => {
      if (echo.text !== text) return false;
      if (this.offset === null) return true;
      let delta = Math.abs(seconds_of(echo.time) - seconds_of(stamp.time));
      delta = Math.min(delta, kDay - delta);
      return delta <= 300;
    });
    if (index < 0) return null;
    const [echo] = conv.echoes.splice(index, 1);
    // The server has it: whatever the page feared when a socket dropped.
    echo.date = stamp.date;
    echo.time = stamp.time;
    echo.state = null;
    echo.note = '';
    echo.confirmed = true;
    return echo;
  }

  add_notice(conv, text) {
    return this.insert(conv, '', text, this.server_now(), {notice: true});
  }

  // A room the user is no longer in keeps its messages; a reconnect does
  // not rejoin it.
  set_members(conv, names) {
    conv.members.clear();
    conv.member_names.clear();
    for (const name of names) {
      conv.members.add(fold(name));
      conv.member_names.set(fold(name), name);
    }
  }
}
