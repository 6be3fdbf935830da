// The DOM side of the page. Every piece of text from the server or from
// another user goes in through textContent (or text nodes): nothing here
// parses HTML, so no message can add an element or a script to the page.
import {fold} from './protocol.js';

export function $(id) {
  return document.getElementById(id);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const kStateWords = {
  sending: 'sending…',
  sent: '',
  queued: 'waiting for them to come online',
  failed: 'not sent',
};

function day_words(date) {
  const today = new Date();
  const iso = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  if (date === iso(today)) return 'Today';
  if (date === iso(new Date(today.getTime() - 86400000))) return 'Yesterday';
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(undefined,
      {weekday: 'long', year: 'numeric', month: 'long', day: 'numeric'});
}

export class View {
  constructor(handlers) {
    this.handlers = handlers;  // {open(id), resend(message)}
    this.list = $('messages');
    this.scroller = $('scroller');
    this.rendered = null;      // the conversation on screen
  }

  // The sidebar: everyone, the rooms, then people (DMs and whoever is
  // online), each with its unread count.
  render_sidebar(model, active, online) {
    const rooms = [];
    const people = new Map();
    for (const conv of model.conversations.values()) {
      if (conv.kind === 'room') rooms.push(conv);
      if (conv.kind === 'direct') people.set(fold(conv.id), conv.id);
    }
    for (const [key, name] of online) {
      if (!people.has(key)) people.set(key, name);
    }
    rooms.sort((a, b) => fold(a.id).localeCompare(fold(b.id)));
    const names = [...people.values()].sort((a, b) => fold(a).localeCompare(fold(b)));

    this.fill($('conv-everyone'), [model.everyone], model, active, online);
    this.fill($('conv-rooms'), rooms, model, active, online);
    this.fill($('conv-people'), names.map((name) => model.find(name) || {id: name, kind: 'direct', unread: 0,
                                                                         title: name}),
              model, active, online);
    $('online-count').textContent = online.size ? `${online.size} online` : '';
    let total = 0;
    for (const conv of model.conversations.values()) total += conv.unread;
    const badge = $('total-unread');
    badge.hidden = total === 0;
    badge.textContent = String(total);
    document.title = total > 0 ? `(${total}) uvchat` : 'uvchat';
  }

  fill(list, convs, model, active, online) {
    list.replaceChildren(...convs.map((conv) => {
      const item = el('li');
      const button = el('button', 'conv');
      button.type = 'button';
      button.dataset.conv = conv.id;
      const current = active && fold(active.id) === fold(conv.id);
      if (current) {
        button.classList.add('active');
        button.setAttribute('aria-current', 'true');
      }
      let state = '';
      if (conv.kind === 'direct') {
        const here = online.has(fold(conv.id));
        const dot = el('span', here ? 'dot online' : 'dot');
        dot.setAttribute('aria-hidden', 'true');
        button.append(dot);
        state = here ? ', online' : ', offline';
        if (model.is_me(conv.id)) state = ', you';
      } else if (conv.kind === 'room' && !conv.joined) {
        button.classList.add('left-room');
        state = ', not joined';
      }
      button.append(el('span', 'conv-name', conv.title));
      if (conv.kind === 'direct' && model.is_me(conv.id)) button.append(el('span', 'you', 'you'));
      if (conv.unread > 0) {
        button.append(el('span', 'badge', String(conv.unread)));
        state += `, ${conv.unread} unread`;
      }
      button.setAttribute('aria-label', conv.title + state);
      button.addEventListener('click', () => this.handlers.open(conv.id));
      item.append(button);
      return item;
    }));
  }

  render_head(conv, online, model) {
    $('conv-title').textContent = conv.kind === 'all' ? 'Everyone' : conv.id;
    let info = '';
    if (conv.kind === 'all') info = 'a line here goes to everyone online';
    if (conv.kind === 'direct') info = model.is_me(conv.id) ? 'notes to yourself'
        : online.has(fold(conv.id)) ? 'online' : 'offline: messages wait for them';
    if (conv.kind === 'room') {
      info = conv.joined ? `${conv.members.size} ${conv.members.size === 1 ? 'member' : 'members'}: ` +
          [...conv.member_names.values()].join(', ') : 'you are not in this room';
    }
    $('conv-info').textContent = info;
    $('conv-join').hidden = !(conv.kind === 'room' && !conv.joined);
    $('conv-leave').hidden = !(conv.kind === 'room' && conv.joined);
    $('load-earlier').hidden = conv.kind === 'all' || conv.history_done ||
        (conv.kind === 'room' && !conv.joined);
    $('composer-text').placeholder = conv.kind === 'all' ? 'Message everyone online'
        : conv.kind === 'room' ? `Message ${conv.id}` : `Message ${conv.id}`;
  }

  // The whole conversation again: after a switch or a replay that put
  // lines above others. Keeps the reader where they were unless they were
  // at the bottom.
  render_messages(conv, keep_position) {
    const at_bottom = this.at_bottom();
    const from_bottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const nodes = [];
    let day = null;
    for (const message of conv.messages) {
      if (message.date !== day) {
        day = message.date;
        nodes.push(this.day_node(day));
      }
      nodes.push(this.message_node(message));
    }
    if (conv.messages.length === 0) {
      nodes.push(el('li', 'empty', conv.kind === 'room' && !conv.joined ? 'Join this room to read and write here.'
          : 'No messages yet.'));
    }
    this.list.replaceChildren(...nodes);
    this.rendered = conv;
    if (!keep_position || at_bottom) {
      this.scroll_to_bottom();
    } else {
      this.scroller.scrollTop = this.scroller.scrollHeight - from_bottom;
    }
  }

  // One new line at the end of the conversation on screen.
  append_message(conv, message) {
    if (this.rendered !== conv) return;
    const at_bottom = this.at_bottom();
    const empty = this.list.querySelector('.empty');
    if (empty) empty.remove();
    const previous = conv.messages[conv.messages.length - 2];
    if (!previous || previous.date !== message.date) this.list.append(this.day_node(message.date));
    this.list.append(this.message_node(message));
    if (at_bottom || message.own) this.scroll_to_bottom();
  }

  // A message whose state changed (sent, queued, failed).
  update_message(message) {
    const node = this.list.querySelector(`[data-seq="${message.seq}"]`);
    if (node) node.replaceWith(this.message_node(message));
  }

  day_node(date) {
    const item = el('li', 'day');
    item.append(el('span', '', day_words(date)));
    return item;
  }

  message_node(message) {
    const item = el('li', 'msg');
    item.dataset.seq = String(message.seq);
    if (message.notice) {
      item.classList.add('notice');
      item.append(el('span', 'notice-text', message.text));
      return item;
    }
    if (message.own) item.classList.add('own');
    const head = el('div', 'msg-head');
    head.append(el('span', 'from', message.own ? 'you' : message.from));
    const time = el('time', 'time', message.time.slice(0, 5));
    time.dateTime = `${message.date}T${message.time}`;
    time.title = `${message.date} ${message.time}`;
    head.append(time);
    item.append(head);
    item.append(el('p', 'text', message.text));
    const words = message.note || kStateWords[message.state] || '';
    if (words) {
      const state = el('p', `state state-${message.state || 'note'}`, words);
      if (message.state === 'failed' && message.resendable) {
        const again = el('button', 'resend', 'Send again');
        again.type = 'button';
        again.addEventListener('click', () => this.handlers.resend(message));
        state.append(' ', again);
      }
      item.append(state);
    }
    return item;
  }

  at_bottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 40;
  }

  scroll_to_bottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Read aloud by screen readers (the region is aria-live="polite").
  announce(text) {
    $('announcer').textContent = text;
  }

  status(text, kind) {
    const node = $('status');
    node.textContent = text;
    node.className = `status status-${kind}`;
  }
}
