/**
 * Group-level stickiness of the local load balancer's production listener, as ALB's weighted forward action has
 * it (TargetGroupStickinessConfig): while it is on, every answer carries a cookie naming the color (target group)
 * that answered, valid for the configured duration, and a request that brings a valid, unexpired cookie goes to
 * that color whatever the weights say, even 0 (stickiness takes precedence over weights). ALB names its cookies
 * AWSALBTG and AWSALBTGCORS (the same value, with SameSite=None; Secure for cross-origin requests) and encrypts
 * their value; here the value is the color and its expiry, signed with a key only this load balancer knows, so a
 * client cannot forge or extend one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isColor, type Color } from '../lambda/shared/release-record';

export const STICKY_COOKIE = 'AWSALBTG';
export const STICKY_COOKIE_CORS = 'AWSALBTGCORS';

export class StickyCookies {
  private readonly key = randomBytes(32);

  /** The Set-Cookie values that keep a client on `color` for `seconds` from `now` (epoch ms). */
  issue(color: Color, seconds: number, now = Date.now()): string[] {
    const expires = now + seconds * 1000;
    const value = `${color}.${expires}.${this.mac(color, expires)}`;
    const attributes = `Expires=${new Date(expires).toUTCString()}; Path=/`;
    return [
      `${STICKY_COOKIE}=${value}; ${attributes}`,
      `${STICKY_COOKIE_CORS}=${value}; ${attributes}; SameSite=None; Secure`,
    ];
  }

  /**
   * The color a request's Cookie header sticks it to: the first of its stickiness cookies that this load
   * balancer issued and that has not expired at `now`; undefined when there is none.
   */
  colorOf(cookieHeader: string | undefined, now = Date.now()): Color | undefined {
    for (const part of (cookieHeader ?? '').split(';')) {
      const [name, value] = splitOnce(part.trim(), '=');
      if ((name === STICKY_COOKIE || name === STICKY_COOKIE_CORS) && value) {
        const color = this.verify(value, now);
        if (color) {
          return color;
        }
      }
    }
    return undefined;
  }

  private verify(value: string, now: number): Color | undefined {
    const [color, expiresText, mac] = value.split('.');
    const expires = Number(expiresText);
    if (!isColor(color) || !Number.isSafeInteger(expires) || expires <= now || !mac) {
      return undefined;
    }
    const expected = Buffer.from(this.mac(color, expires));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected) ? color : undefined;
  }

  private mac(color: Color, expires: number): string {
    return createHmac('sha256', this.key).update(`${color}.${expires}`).digest('base64url');
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
