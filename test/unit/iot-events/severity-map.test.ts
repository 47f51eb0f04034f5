import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SEVERITY_MAP,
  DEFAULT_SEVERITY_MAP_TEXT,
  SeverityMapError,
  formatSeverityMap,
  mapSeverity,
  parseSeverityMap,
} from '../../../infra/iot-events/severity-map.js';

describe('parseSeverityMap', () => {
  it('reads single values, ranges and open-ended ranges, in any order', () => {
    const map = parseSeverityMap(' 10+ = info , 0=critical,1-3=major,4-9=minor');

    expect(formatSeverityMap(map)).toBe('0=critical,1-3=major,4-9=minor,10+=info');
    expect([0, 1, 3, 4, 9, 10, 2_147_483_647].map((severity) => mapSeverity(map, severity))).toEqual([
      'critical',
      'major',
      'major',
      'minor',
      'minor',
      'info',
      'info',
    ]);
  });

  it('leaves a gap unmapped', () => {
    expect(mapSeverity(parseSeverityMap('1=critical,3=minor'), 2)).toBeUndefined();
  });

  it('is the documented default when nothing is given', () => {
    expect(formatSeverityMap(DEFAULT_SEVERITY_MAP)).toBe(DEFAULT_SEVERITY_MAP_TEXT);
  });

  it.each([
    ['', 'severity map is empty'],
    ['2=urgent', 'severity map entry "2=urgent": "urgent" is not one of critical, major, minor, warning, info'],
    ['high=critical', 'severity map entry "high=critical": expected N=severity, N-M=severity or N+=severity'],
    ['5-2=major', 'severity map entry "5-2=major": the range ends before it starts'],
    ['0-3=major,2=minor', 'severity map: 2 overlaps 0-3'],
    ['5+=info,9=major', 'severity map: 9 overlaps 5+'],
    ['9999999999=info', 'severity map entry "9999999999=info": 9999999999 is not an integer from 0 to 2147483647'],
  ])('refuses %j, naming the entry at fault', (text, message) => {
    expect(() => parseSeverityMap(text)).toThrow(new SeverityMapError(message));
  });
});
