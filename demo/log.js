// The log panel: timestamped lines, newest at the bottom. SIP trace lines are
// always kept (the last MAX_ENTRIES entries), and shown while the "SIP trace"
// toggle is on, so turning it on shows the recent traffic too.

const MAX_ENTRIES = 1000;
const TRACE_PREF = 'tabphone-demo:trace';

const clock = (at) => new Date(at).toTimeString().slice(0, 8) + '.' + String(at % 1000).padStart(3, '0');

export class Log {
  /** `box`: the log element; `toggle`: the trace checkbox; `clear`: its button. */
  constructor(box, toggle, clear) {
    this.box = box;
    this.toggle = toggle;
    this.entries = [];
    this.toggle.checked = localStorage.getItem(TRACE_PREF) === '1';
    this.toggle.addEventListener('change', () => {
      localStorage.setItem(TRACE_PREF, this.toggle.checked ? '1' : '0');
      this.render();
    });
    clear.addEventListener('click', () => { this.entries = []; this.render(); });
  }

  /** Add a line; `kind` is `info`, `call`, `error` or `trace`. */
  add(text, kind = 'info') {
    const entry = { at: Date.now(), text: String(text), kind };
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    if (kind === 'trace' && !this.toggle.checked) return;
    const stick = this.box.scrollTop + this.box.clientHeight >= this.box.scrollHeight - 8;
    this.box.append(this.node(entry));
    while (this.box.childElementCount > MAX_ENTRIES) this.box.firstElementChild.remove();
    if (stick) this.box.scrollTop = this.box.scrollHeight;
  }

  info(text) { this.add(text, 'info'); }
  call(text) { this.add(text, 'call'); }
  error(text) { this.add(text, 'error'); }
  trace(text) { this.add(text, 'trace'); }

  render() {
    const shown = this.entries.filter((e) => e.kind !== 'trace' || this.toggle.checked);
    this.box.replaceChildren(...shown.map((e) => this.node(e)));
    this.box.scrollTop = this.box.scrollHeight;
  }

  /** One entry: a line, or for a SIP message its first line with the rest folded. */
  node(entry) {
    const line = document.createElement('div');
    line.className = `line k-${entry.kind}`;
    const time = document.createElement('time');
    time.textContent = clock(entry.at);
    const lines = entry.text.replace(/\r/g, '').trimEnd().split('\n');
    if (entry.kind !== 'trace' || lines.length < 2) {
      line.append(time, ' ', entry.text);
      return line;
    }
    const fold = document.createElement('details');
    const summary = document.createElement('summary');
    const head = lines.find((l) => /^(SIP\/2\.0 \d{3}|[A-Z]+ \S+ SIP\/2\.0)/.test(l)) || lines[0];
    summary.append(time, ' ', lines[0] === head ? head : `${lines[0]} ${head}`);
    const body = document.createElement('pre');
    body.textContent = lines.join('\n');
    fold.append(summary, body);
    line.append(fold);
    return line;
  }
}
