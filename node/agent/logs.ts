/**
 * Reading container logs back from the CRI-format files the runtime writes, as kubelet serves
 * them: the content without the CRI prefix (with an RFC 3339 timestamp when asked), partial lines
 * joined, `tailLines`, `sinceSeconds`/`sinceTime`, `limitBytes`, and `follow` (stream until the
 * container stops).
 */

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Only lines at or after this time (ms since the epoch). */
  since?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

interface Line {
  time: string;
  text: string;
}

/** Whole lines of a CRI log text (a partial `P` line joins the next); a trailing fragment is left. */
export function parseCri(text: string): { lines: Line[]; rest: string } {
  const lines: Line[] = [];
  let partial = "";
  let partialTime = "";
  let start = 0;
  let nl: number;
  while ((nl = text.indexOf("\n", start)) >= 0) {
    const raw = text.slice(start, nl);
    start = nl + 1;
    const a = raw.indexOf(" ");
    const b = raw.indexOf(" ", a + 1);
    const c = raw.indexOf(" ", b + 1);
    if (a < 0 || b < 0) continue;
    const time = raw.slice(0, a);
    const tag = c < 0 ? raw.slice(b + 1) : raw.slice(b + 1, c);
    const content = c < 0 ? "" : raw.slice(c + 1);
    if (tag === "P") {
      if (!partial) partialTime = time;
      partial += content;
      continue;
    }
    lines.push({ time: partial ? partialTime : time, text: partial + content });
    partial = "";
  }
  return { lines, rest: text.slice(start) };
}

function format(lines: Line[], options: LogOptions): string {
  let out = "";
  for (const l of lines) {
    if (options.since !== undefined && Date.parse(l.time) < options.since) continue;
    out += options.timestamps ? `${l.time} ${l.text}\n` : `${l.text}\n`;
  }
  return out;
}

/** The log of one container run as a stream; `running()` says whether a follow should go on. */
export function logStream(
  path: string,
  options: LogOptions,
  running: () => boolean,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sent = 0;
  let offset = 0;
  let rest = "";
  let stopped = false;
  const limited = (text: string): { text: string; full: boolean } => {
    if (options.limitBytes === undefined) return { text, full: false };
    const bytes = encoder.encode(text);
    const room = options.limitBytes - sent;
    if (bytes.length < room) return { text, full: false };
    return { text: new TextDecoder().decode(bytes.slice(0, Math.max(0, room))), full: true };
  };
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const readNew = async (): Promise<string> => {
        try {
          const file = await Deno.open(path, { read: true });
          try {
            const size = (await file.stat()).size;
            if (size <= offset) return "";
            await file.seek(offset, Deno.SeekMode.Start);
            const buf = new Uint8Array(size - offset);
            let got = 0;
            while (got < buf.length) {
              const n = await file.read(buf.subarray(got));
              if (n === null) break;
              got += n;
            }
            offset += got;
            return new TextDecoder().decode(buf.subarray(0, got));
          } finally {
            file.close();
          }
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) return "";
          throw err;
        }
      };
      const emit = (lines: Line[]): boolean => {
        const { text, full } = limited(format(lines, options));
        if (text) {
          controller.enqueue(encoder.encode(text));
          sent += encoder.encode(text).length;
        }
        return full;
      };
      const first = parseCri(await readNew());
      rest = first.rest;
      const lines = options.tailLines !== undefined
        ? first.lines.slice(Math.max(0, first.lines.length - options.tailLines))
        : first.lines;
      if (emit(lines) || !options.follow) {
        controller.close();
        return;
      }
      while (!stopped) {
        const wasRunning = running();
        await new Promise((r) => setTimeout(r, 100));
        const more = parseCri(rest + await readNew());
        rest = more.rest;
        if (emit(more.lines)) break;
        if (!wasRunning) break;
      }
      if (!stopped) controller.close();
    },
    cancel() {
      stopped = true;
    },
  });
}
