// Desktop notifications for new messages while the tab is hidden. The
// browser asks the user only after a click on the page's own button (a
// request without a user gesture is refused or annoys), and the page
// notifies only once allowed.
export class Notifier {
  constructor(button) {
    this.button = button;
    button.addEventListener('click', () => this.ask());
  }

  supported() {
    return 'Notification' in window;
  }

  // Shows the button while the user has not decided.
  offer() {
    this.button.hidden = !this.supported() || Notification.permission !== 'default';
  }

  async ask() {
    if (!this.supported()) return;
    try {
      await Notification.requestPermission();
    } catch (error) {
      // Old browsers take a callback instead; the button simply stays.
    }
    this.offer();
  }

  // Title and body are plain text to the Notification API, never HTML.
  show(title, body, tag, open) {
    if (!this.supported() || Notification.permission !== 'granted') return;
    const note = new Notification(title, {body, tag, icon: '/favicon.svg'});
    note.addEventListener('click', () => {
      window.focus();
      open(tag);
      note.close();
    });
  }
}
