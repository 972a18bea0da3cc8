import { describe, expect, it } from '@jest/globals';

import { parseGitCommand } from './ssh.js';

describe('parseGitCommand', () => {
  it('accepts the forms git clients send', () => {
    expect(parseGitCommand("git-upload-pack '/PROJECT_1/repo-1.git'")).toEqual({ service: 'upload-pack', key: 'PROJECT_1', slug: 'repo-1' });
    expect(parseGitCommand("git-receive-pack 'KEY/slug.git'")).toEqual({ service: 'receive-pack', key: 'KEY', slug: 'slug' });
    expect(parseGitCommand('git upload-pack /key/slug')).toEqual({ service: 'upload-pack', key: 'key', slug: 'slug' });
  });

  it('refuses other commands and path tricks', () => {
    for (const cmd of ['ls /', 'git-upload-archive /K/s.git', "git-upload-pack '/K/../s.git'", "git-upload-pack '/../../etc.git'", "git-upload-pack '/K/s.git'; rm -rf /", "git-upload-pack '/K/.hidden.git'", "git-upload-pack '/a/b/c.git'"]) {
      expect(parseGitCommand(cmd)).toBeUndefined();
    }
  });
});
