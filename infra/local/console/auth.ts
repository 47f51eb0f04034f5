/**
 * The console's access token. The console has no open mode, not even on loopback: any local process
 * or any web page the operator visits could otherwise reach it (a page can send requests to
 * 127.0.0.1). A request proves it holds the token in one of three ways:
 * - `Authorization: Bearer <token>` (scripts, tests);
 * - the cookie the first page load sets (HttpOnly, so page scripts cannot read it; SameSite=Strict,
 *   so a request from another site never carries it);
 * - `?token=<token>` in the URL (the link printed at start). A page load with it sets the cookie and
 *   redirects to the same URL without it, so the token does not stay in the address bar or history.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ConsoleConfigError } from './errors.js';

/** What a token may be made of: it travels in a URL, a header and a cookie without encoding. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,256}$/;

/** A new random token: 32 bytes (256 bits) from the CSPRNG, base64url (43 characters). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Checks a token given in the options; throws ConsoleConfigError naming what is wrong. */
export function checkTokenShape(token: string): string {
  if (!TOKEN_SHAPE.test(token)) {
    throw new ConsoleConfigError('console token: must be 16 to 256 of [A-Za-z0-9_-] (base64url)');
  }
  return token;
}

/** Where the request presented the token, if it did. */
export type TokenSource = 'header' | 'cookie' | 'query';

/** Decides whether requests hold the token, in constant time. */
export class TokenGate {
  private readonly digest: Buffer;
  /** Cookies are shared by every port of a host, so the name carries the port: two consoles never clash. */
  readonly cookieName: string;

  constructor(
    readonly token: string,
    port: number,
  ) {
    this.digest = sha256(token);
    this.cookieName = `ft_console_${port}`;
  }

  /** Where a valid token was presented, or undefined when none was. */
  check(req: IncomingMessage, url: URL): TokenSource | undefined {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(auth);
      if (match && this.matches(match[1] as string)) return 'header';
    }
    const cookie = readCookie(req.headers.cookie, this.cookieName);
    if (cookie !== undefined && this.matches(cookie)) return 'cookie';
    const query = url.searchParams.get('token');
    if (query !== null && this.matches(query)) return 'query';
    return undefined;
  }

  /** The Set-Cookie value that lets this browser in from now on (a session cookie, console paths only). */
  setCookie(): string {
    return `${this.cookieName}=${this.token}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /**
   * Constant time: both sides are hashed to 32 bytes first, so neither the content nor the length of
   * the candidate changes how long the comparison takes (timingSafeEqual needs equal lengths).
   */
  private matches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The value of one cookie in a Cookie header (RFC 6265 section 5.4: `name=value; name=value`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
