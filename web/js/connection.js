// The WebSocket to uvchatd, one native protocol line per text message, and
// what keeps it up: reconnection with backoff, and a ping that notices a
// connection that died without a word (a phone that changed networks).

const kPingEvery = 25000;      // ms between pings while idle
const kPongWithin = 10000;     // ms a pong may take before the socket is given up
const kBackoff = [1000, 2000, 4000, 8000, 15000, 30000];

export function socket_url() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

// Callbacks: on_open(), on_line(line), on_close(reason), on_state(state, detail)
// with state 'connecting', 'open', 'waiting' (detail: ms until the next try)
// or 'stopped'.
export class Connection {
  constructor(callbacks) {
    this.callbacks = callbacks;
    this.socket = null;
    this.attempt = 0;
    this.retry_timer = null;
    this.ping_timer = null;
    this.pong_timer = null;
    this.wanted = false;
    this.pings = [];           // callbacks waiting for pongs, in order
  }

  start() {
    this.wanted = true;
    this.attempt = 0;
    this.open();
  }

  // No reconnection after this: the user logged out or was refused.
  stop() {
    this.wanted = false;
    clearTimeout(this.retry_timer);
    this.retry_timer = null;
    this.drop();
    this.callbacks.on_state('stopped');
  }

  // Reconnect now, e.g. when the browser says it is online again.
  hurry() {
    if (!this.wanted || this.socket) return;
    clearTimeout(this.retry_timer);
    this.open();
  }

  // Drop the socket and reconnect as after a network loss. Tests use it.
  break_now() {
    if (this.socket) this.socket.close();
  }

  is_open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(line) {
    if (!this.is_open()) return false;
    this.socket.send(line);
    this.arm_ping();
    return true;
  }

  // server:ping; `done` runs at its pong, when the server has read every
  // line sent before it (it answers lines in order).
  ping(done) {
    if (!this.send('server:ping')) return false;
    this.pings.push(done || null);
    if (!this.pong_timer) {
      this.pong_timer = setTimeout(() => this.lost('no answer from the server'), kPongWithin);
    }
    return true;
  }

  open() {
    this.retry_timer = null;
    this.callbacks.on_state('connecting');
    let socket;
    try {
      socket = new WebSocket(socket_url(), ['uvchat']);
    } catch (error) {
      this.schedule();
      return;
    }
    this.socket = socket;
    socket.addEventListener('open', () => {
      if (socket !== this.socket) return;
      this.callbacks.on_state('open');
      this.arm_ping();
      this.callbacks.on_open();
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.socket || typeof event.data !== 'string') return;
      if (event.data.toLowerCase() === 'server:pong') {
        this.pong();
        return;
      }
      this.callbacks.on_line(event.data);
    });
    socket.addEventListener('close', (event) => {
      if (socket !== this.socket) return;
      this.lost(event.reason || '');
    });
  }

  pong() {
    const done = this.pings.shift();
    clearTimeout(this.pong_timer);
    this.pong_timer = null;
    if (this.pings.length > 0) {
      this.pong_timer = setTimeout(() => this.lost('no answer from the server'), kPongWithin);
    }
    if (done) done();
  }

  // Registered: the backoff starts again from its shortest wait.
  registered() {
    this.attempt = 0;
  }

  lost(reason) {
    this.drop();
    this.callbacks.on_close(reason);
    if (this.wanted) this.schedule();
  }

  drop() {
    clearTimeout(this.ping_timer);
    clearTimeout(this.pong_timer);
    this.ping_timer = this.pong_timer = null;
    this.pings = [];
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
  }

  schedule() {
    const base = kBackoff[Math.min(this.attempt, kBackoff.length - 1)];
    this.attempt++;
    // Up to a quarter more, so that many pages cut at once do not all come back at once.
    const wait = Math.round(base * (1 + Math.random() / 4));
    this.callbacks.on_state('waiting', wait);
    this.retry_timer = setTimeout(() => this.open(), wait);
  }

  arm_ping() {
    clearTimeout(this.ping_timer);
    this.ping_timer = setTimeout(() => this.ping(), kPingEvery);
  }
}
