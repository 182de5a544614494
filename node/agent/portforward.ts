/**
 * `kubectl port-forward` on the node: SPDY/3.1 over the WebSocket (subprotocol
 * `SPDY/3.1+portforward.k8s.io`). For each forwarded connection the client opens two streams with
 * headers `streamtype` (error, data), `port` and `requestid`; the node answers each, connects the
 * data stream to the pod's address and port, and copies both ways; a failed connection is reported on
 * the error stream, as kubelet words it.
 */

import {
  controlFrame,
  dataFrame,
  FLAG_FIN,
  FrameReader,
  GOAWAY,
  HeaderReader,
  HeaderWriter,
  PING,
  readU31,
  RST_STREAM,
  SYN_REPLY,
  SYN_STREAM,
  u32,
} from "./spdy.ts";

interface Stream {
  kind: string;
  port: number;
  requestId: string;
  conn?: Deno.TcpConn;
  /** Data that arrived before the connection was made. */
  early: Uint8Array[];
  finReceived: boolean;
  finSent?: boolean;
}

export interface PortForwardTarget {
  podIP: string;
  name: string;
  uid: string;
}

export function servePortForward(socket: WebSocket, target: PortForwardTarget): void {
  socket.binaryType = "arraybuffer";
  const frames = new FrameReader();
  const headersIn = new HeaderReader();
  const headersOut = new HeaderWriter();
  const streams = new Map<number, Stream>();
  const encoder = new TextEncoder();
  const send = (bytes: Uint8Array) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
  };
  const closeAll = () => {
    for (const s of streams.values()) {
      try {
        s.conn?.close();
      } catch {
        // closed
      }
    }
    streams.clear();
  };
  /** Ends the request's error stream, after `message` if there is one (kubectl waits for its end). */
  const endErrorStream = (requestId: string, message = "") => {
    for (const [id, s] of streams) {
      if (s.kind !== "error" || s.requestId !== requestId || s.finSent) continue;
      if (message) send(dataFrame(id, 0, encoder.encode(message)));
      send(dataFrame(id, FLAG_FIN, new Uint8Array(0)));
      s.finSent = true;
      streams.delete(id);
    }
  };
  const connect = async (id: number, s: Stream) => {
    try {
      s.conn = await Deno.connect({ hostname: target.podIP, port: s.port });
    } catch (err) {
      const refused = (err as Error).message.includes("refused")
        ? "connect: connection refused"
        : (err as Error).message;
      endErrorStream(
        s.requestId,
        `error forwarding port ${s.port} to pod ${target.name}, uid ${target.uid}: dial tcp ${target.podIP}:${s.port}: ${refused}`,
      );
      send(dataFrame(id, FLAG_FIN, new Uint8Array(0)));
      streams.delete(id);
      return;
    }
    const conn = s.conn;
    for (const bytes of s.early.splice(0)) await conn.write(bytes).catch(() => {});
    if (s.finReceived) await conn.closeWrite().catch(() => {});
    (async () => {
      try {
        for await (const chunk of conn.readable) send(dataFrame(id, 0, chunk));
      } catch {
        // the connection broke: end the stream as if it had closed
      }
      send(dataFrame(id, FLAG_FIN, new Uint8Array(0)));
      streams.delete(id);
      endErrorStream(s.requestId);
    })();
  };
  socket.onmessage = (e) => {
    for (const frame of frames.push(new Uint8Array(e.data as ArrayBuffer))) {
      if (frame.control) {
        if (frame.type === SYN_STREAM) {
          const id = readU31(frame.data, 0);
          const headers = headersIn.read(frame.data.subarray(10));
          const reply = headersOut.write({});
          const body = new Uint8Array(4 + reply.length);
          body.set(u32(id));
          body.set(reply, 4);
          send(controlFrame(SYN_REPLY, 0, body));
          const s: Stream = {
            kind: headers.streamtype ?? "",
            port: Number(headers.port),
            requestId: headers.requestid ?? "",
            early: [],
            finReceived: false,
          };
          streams.set(id, s);
          if (s.kind === "data") connect(id, s);
        } else if (frame.type === PING) {
          send(controlFrame(PING, 0, frame.data));
        } else if (frame.type === RST_STREAM) {
          const s = streams.get(readU31(frame.data, 0));
          try {
            s?.conn?.close();
          } catch {
            // closed
          }
        } else if (frame.type === GOAWAY) {
          closeAll();
        }
        // SETTINGS and WINDOW_UPDATE need no answer here.
        continue;
      }
      const s = streams.get(frame.streamId);
      if (!s) continue;
      if (frame.data.length) {
        if (s.conn) s.conn.write(frame.data).catch(() => {});
        else s.early.push(frame.data);
      }
      if (frame.flags & FLAG_FIN) {
        s.finReceived = true;
        s.conn?.closeWrite().catch(() => {});
      }
    }
  };
  socket.onclose = closeAll;
}

/**
 * Serves a channel-protocol port-forward over `socket`: each port of the request gets a connection
 * to the pod; every channel first carries its port (2 bytes, little endian), then the data; the
 * socket closes when the connections do.
 */
export function serveChannelPortForward(socket: WebSocket, target: PortForwardTarget, ports: number[]): void {
  socket.binaryType = "arraybuffer";
  const conns: Array<Deno.TcpConn | undefined> = [];
  const early: Uint8Array[][] = ports.map(() => []);
  const encoder = new TextEncoder();
  let open = ports.length;
  const send = (channel: number, data: Uint8Array) => {
    if (socket.readyState !== WebSocket.OPEN) return;
    const out = new Uint8Array(data.length + 1);
    out[0] = channel;
    out.set(data, 1);
    socket.send(out);
  };
  const closeAll = () => {
    for (const c of conns) {
      try {
        c?.close();
      } catch {
        // closed
      }
    }
  };
  socket.onopen = () => {
    ports.forEach(async (port, i) => {
      const portBytes = Uint8Array.from([port & 255, port >>> 8]);
      send(2 * i, portBytes);
      send(2 * i + 1, portBytes);
      try {
        const conn = await Deno.connect({ hostname: target.podIP, port });
        conns[i] = conn;
        for (const bytes of early[i].splice(0)) await conn.write(bytes).catch(() => {});
        for await (const chunk of conn.readable) send(2 * i, chunk);
      } catch (err) {
        send(
          2 * i + 1,
          encoder.encode(
            `error forwarding port ${port} to pod ${target.name}, uid ${target.uid}: ${
              (err as Error).message
            }`,
          ),
        );
      }
      if (--open === 0 && socket.readyState === WebSocket.OPEN) socket.close(1000);
    });
  };
  socket.onmessage = (e) => {
    const data = new Uint8Array(e.data as ArrayBuffer);
    if (data.length === 0) return;
    if (data[0] === 255) {
      // v5's close of a channel: the client has nothing more to send on it.
      const i = data[1] / 2;
      conns[i]?.closeWrite().catch(() => {});
      return;
    }
    if (data[0] % 2 !== 0) return;
    const i = data[0] / 2;
    if (i >= ports.length) return;
    const bytes = data.subarray(1);
    if (conns[i]) conns[i]!.write(bytes).catch(() => {});
    else early[i].push(bytes);
  };
  socket.onclose = closeAll;
}
