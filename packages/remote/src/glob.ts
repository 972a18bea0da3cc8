/**
 * Compiles a glob to a test on a `/`-separated relative path: `**` spans folders, `*` and `?` stay
 * within one name. A pattern without `/` is matched against the file's base name (`*.csv`).
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        re += '(?:.*/)?';
      } else re += '.*';
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${re}$`);
  const baseOnly = !pattern.includes('/');
  return (path) => regex.test(baseOnly ? path.slice(path.lastIndexOf('/') + 1) : path);
}
