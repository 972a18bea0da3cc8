import { stageKey, type AnalysisSummary } from '@e3/model';

// eslint-disable-next-line no-control-regex -- these control characters are exactly what is matched
const INVALID_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const xml = (s: unknown): string =>
  String(s)
    // Characters XML 1.0 cannot hold at all.
    .replace(INVALID_XML_CHARS, '\uFFFD')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * The thresholds verdict as JUnit XML for CI: one test suite (the run), one test case per check, named
 * `<thread> stage <key, e.g. 000> <test>[ / <op>] <metric>`; a failed check is a `<failure>` whose message is the check's.
 */
export function junitXml(s: AnalysisSummary): string {
  const checks = s.verdict.checks;
  const failures = checks.filter((c) => !c.passed).length;
  const cases = checks.map((c) => {
    const name = `${c.thread} stage ${c.stage < 0 ? '*' : stageKey(c.stage)} ${c.test}${c.op !== c.test && c.op !== '*' ? ` / ${c.op}` : ''} ${c.metric}`;
    const open = `    <testcase classname="${xml(`e3.${s.run}`)}" name="${xml(name)}" time="0"`;
    return c.passed ? `${open}/>` : `${open}>\n      <failure message="${xml(c.message)}" type="threshold">${xml(c.message)}</failure>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="e3" tests="${checks.length}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xml(s.run)}" tests="${checks.length}" failures="${failures}" errors="0" skipped="0" timestamp="${xml(s.generatedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
