/** A minimal cookie jar for one virtual user: cookies by name, per host; path and domain rules are ignored. */
export interface CookieJar {
  /** The `cookie` header value for `host`, undefined when empty. */
  header(host: string): string | undefined;
  /** Stores the cookies of the `set-cookie` header values received from `host`. */
  store(host: string, setCookie: string | string[] | undefined): void;
  clear(): void;
}

export function createCookieJar(): CookieJar {
  const hosts = new Map<string, Map<string, string>>();
  /** Header values by host, until that host's cookies change. */
  const headers = new Map<string, string | undefined>();
  return {
    header(host) {
      if (headers.has(host)) return headers.get(host);
      const jar = hosts.get(host);
      let out: string | undefined;
      if (jar) for (const [k, v] of jar) out = (out ? out + '; ' : '') + k + '=' + v;
      headers.set(host, out);
      return out;
    },
    store(host, setCookie) {
      if (setCookie === undefined) return;
      headers.delete(host);
      let jar = hosts.get(host);
      if (!jar) hosts.set(host, (jar = new Map()));
      for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
        const parts = line.split(';');
        const first = parts[0]!;
        const eq = first.indexOf('=');
        if (eq <= 0) continue;
        const name = first.slice(0, eq).trim();
        const value = first.slice(eq + 1).trim();
        let expired = value === '';
        for (const attr of parts.slice(1)) {
          const [k, v = ''] = attr.split('=', 2).map((s) => s.trim());
          if (/^max-age$/i.test(k!) && Number(v) <= 0) expired = true;
          if (/^expires$/i.test(k!) && Date.parse(v) < Date.now()) expired = true;
        }
        if (expired) jar.delete(name);
        else jar.set(name, value);
      }
    },
    clear() {
      hosts.clear();
      headers.clear();
    },
  };
}
