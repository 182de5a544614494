/**
 * The WebSocket protocols of the streaming subresources (exec, attach, port-forward), shared by the
 * API server and the nodes, and the upgrade both sides answer with.
 */

/** exec and attach: the channel protocol (v5 adds closing a channel), newest first. */
export const CHANNEL_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
/** kubectl's port-forward: SPDY/3.1 frames tunnelled inside the WebSocket. */
export const PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
/** The same between the API server and its nodes: its ws client refuses a "/" in a protocol. */
export const NODE_PORT_FORWARD_PROTOCOL = "spdy-3.1.portforward.kubedeno.io";
/** client-node's port-forward: the older channel protocol, channels 2i (data) and 2i+1 (errors). */
export const CHANNEL_PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";
/** What a port-forward upgrade may ask for. */
export const PORT_FORWARD_PROTOCOLS = [
  PORT_FORWARD_PROTOCOL,
  NODE_PORT_FORWARD_PROTOCOL,
  CHANNEL_PORT_FORWARD_PROTOCOL,
];

/** The first of `supported` the request offers, if it is a WebSocket upgrade offering one. */
export function pickProtocol(req: Request, supported: string[]): string | undefined {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return undefined;
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  return supported.find((p) => offered.includes(p));
}

/**
 * Upgrades a request to a WebSocket with a chosen subprotocol. Deno.upgradeWebSocket's own
 * `protocol` option checks it against the request's list split at ", " only, so a client that
 * writes the list without spaces (client-node's ws: `v5.channel.k8s.io,v4.channel.k8s.io`) is
 * refused; the caller has already chosen from the list, so the answer header is set directly.
 */
export function upgradeWithProtocol(
  req: Request,
  protocol: string,
): { socket: WebSocket; response: Response } {
  const upgraded = Deno.upgradeWebSocket(req);
  upgraded.response.headers.set("sec-websocket-protocol", protocol);
  return upgraded;
}

/** A streaming request's yes/no query flag, by either of its names (`stdin` or kubelet's `input`). */
export function queryFlag(q: URLSearchParams, ...names: string[]): boolean {
  return names.some((n) => q.get(n) === "true" || q.get(n) === "1");
}
