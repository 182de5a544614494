/**
 * Upgrading a request to a WebSocket with a chosen subprotocol. Deno.upgradeWebSocket's own
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
