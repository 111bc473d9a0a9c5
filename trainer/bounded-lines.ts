// Splits a child's output into lines without ever holding more than `maxLine` bytes of one:
// a longer line is cut and its end replaced by a marker that says how much was dropped. A
// child that writes 600 MB without a newline costs the supervisor `maxLine` bytes.
export class LineSplitter {
  private parts: Buffer[] = [];
  private held = 0;
  private dropped = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxLine = 2000,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const end = nl < 0 ? chunk.length : nl;
      this.keep(chunk.subarray(start, end));
      if (nl < 0) return;
      this.emit();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.held > 0 || this.dropped > 0) this.emit();
  }

  private keep(b: Buffer): void {
    const room = this.maxLine - this.held;
    if (b.length <= room) {
      if (b.length > 0) this.parts.push(Buffer.from(b));
      this.held += b.length;
      return;
    }
    if (room > 0) this.parts.push(Buffer.from(b.subarray(0, room)));
    this.held += Math.max(0, room);
    this.dropped += b.length - Math.max(0, room);
  }

  private emit(): void {
    let line = Buffer.concat(this.parts, this.held).toString('utf8').replace(/\r$/, '');
    if (this.dropped > 0) line += ` [... line truncated: ${this.dropped} more bytes]`;
    this.parts = [];
    this.held = 0;
    this.dropped = 0;
    this.onLine(line);
  }
}
