/** The broker's transports: MQTT over TCP, and MQTT over WebSocket (one MQTT byte stream per socket). */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { Server as TcpServer, Socket } from 'node:net';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { BrokerError } from './errors.js';
import type { IncomingConnection } from './admission.js';

/**
 * Gets each accepted connection before anything is read from it, and the HTTP request it came from
 * (WebSocket). Reading starts when the handler calls `open()` (admission.ts decides when).
 */
export type ConnectionHandler = (connection: IncomingConnection, request?: IncomingMessage) => unknown;

export interface Listener {
  readonly port: number;
  /** Stops accepting, and ends connections still open. */
  close(): Promise<void>;
}

function listenOn(server: TcpServer, host: string, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(new BrokerError(`${what}: cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new BrokerError(`${what}: listening on ${host}:${port} gave no port`));
        return;
      }
      resolve(address.port);
    });
  });
}

function closeServer(server: TcpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** MQTT over TCP. */
export async function listenTcp(handle: ConnectionHandler, host: string, port: number): Promise<Listener> {
  const sockets = new Set<Socket>();
  // Paused: nothing is read from a socket until admission opens it (the kernel's window holds the rest).
  const server = createTcpServer({ pauseOnConnect: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handle({
      remoteAddress: socket.remoteAddress ?? '',
      open: () => socket,
      destroy: () => socket.destroy(),
      onClose: (listener) => socket.once('close', listener),
    });
  });
  const boundPort = await listenOn(server, host, port, 'MQTT');
  return {
    port: boundPort,
    close: async () => {
      const closed = closeServer(server);
      // A socket that never sent CONNECT is not an aedes client, so aedes.close() does not end it.
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

export interface WebSocketListenOptions {
  /**
   * Largest WebSocket message accepted (ws closes the socket with 1009 above it). One message carries
   * one or a few MQTT packets, so this bounds what a client can make the broker buffer.
   */
  readonly maxMessageBytes: number;
}

/**
 * MQTT over WebSocket: the subprotocol is `mqtt` (MQTT 3.1.1 section 6, [MQTT-6.0.0-3]); a plain HTTP
 * request gets 426 Upgrade Required.
 */
export async function listenWebSocket(
  handle: ConnectionHandler,
  host: string,
  port: number,
  options: WebSocketListenOptions,
): Promise<Listener> {
  const http = createHttpServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    response.end('MQTT over WebSocket: connect with an MQTT client (subprotocol "mqtt")\n');
  });
  const wss = new WebSocketServer({
    server: http,
    maxPayload: options.maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : (protocols.values().next().value ?? false)),
  });
  wss.on('connection', (socket, request) => {
    // The stream now, so no message is missed; paused until admission opens it (its first read resumes it).
    const stream = createWebSocketStream(socket);
    socket.pause();
    handle(
      {
        remoteAddress: request.socket.remoteAddress ?? '',
        open: () => stream,
        destroy: () => socket.terminate(),
        onClose: (listener) => socket.once('close', listener),
      },
      request,
    );
  });
  const boundPort = await listenOn(http, host, port, 'MQTT over WebSocket');
  return {
    port: boundPort,
    close: async () => {
      for (const socket of wss.clients) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const closed = closeServer(http);
      http.closeAllConnections();
      await closed;
    },
  };
}
