/**
 * MQTT topic filters, as the FROM clause uses them [iot iot-sql-from]: `+` matches exactly one level,
 * `#` (last level only) matches any number of remaining levels. Matching follows MQTT 3.1.1 §4.7:
 * `a/#` also matches `a` [MQTT-4.7.1-2]; `+` matches an empty level; a filter that starts with a
 * wildcard does not match topics that start with `$` [MQTT-4.7.2-1]; a topic name containing a
 * wildcard character is not a valid topic name and matches nothing [MQTT-3.3.2-2].
 */

/** Why `filter` is not a valid MQTT topic filter, with the index of the offending character; undefined if valid. */
export function topicFilterProblem(filter: string): { reason: string; index: number } | undefined {
  if (filter.length === 0) return { reason: 'empty topic filter', index: 0 };
  if (filter.includes('\u0000')) return { reason: 'topic filter contains U+0000', index: filter.indexOf('\u0000') };
  let index = 0;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    const plus = level.indexOf('+');
    if (plus !== -1 && level !== '+') return { reason: "'+' must fill a whole topic level", index: index + plus };
    const hash = level.indexOf('#');
    if (hash !== -1 && level !== '#') return { reason: "'#' must fill a whole topic level", index: index + hash };
    if (level === '#' && i !== levels.length - 1) return { reason: "'#' must be the last topic level", index };
    index += level.length + 1;
  }
  return undefined;
}

/**
 * A matcher for a valid topic filter (validate first with {@link topicFilterProblem}). One pass over
 * the topic, no allocation: the broker matches the rule's filter for every telemetry message before
 * its PUBACK. A literal level of a valid filter holds no wildcard character, so checking the `+` and
 * `#` levels' characters is enough to refuse a topic name that contains one.
 */
export function compileTopicFilter(filter: string): (topic: string) => boolean {
  const levels = filter.split('/');
  const wild = levels.some((level) => level === '+' || level === '#');
  if (!wild) return (topic) => topic === filter;
  const startsWild = levels[0] === '+' || levels[0] === '#';
  const count = levels.length;
  return (topic) => {
    const length = topic.length;
    if (length === 0) return false;
    if (startsWild && topic.charCodeAt(0) === 36 /* $ */) return false;
    let start = 0;
    for (let i = 0; i < count; i++) {
      const level = levels[i] as string;
      // `#` takes whatever is left, even nothing (`a/#` matches `a`), if none of it is a wildcard.
      if (level === '#') return !hasWildcard(topic, start, length);
      if (start > length) return false;
      let end = start;
      if (level === '+') {
        for (; end < length; end++) {
          const c = topic.charCodeAt(end);
          if (c === 47 /* / */) break;
          if (c === 43 /* + */ || c === 35 /* # */) return false;
        }
      } else {
        end = start + level.length;
        if (end > length || !topic.startsWith(level, start) || (end < length && topic.charCodeAt(end) !== 47)) return false;
      }
      start = end + 1;
    }
    return start === length + 1;
  };
}

function hasWildcard(topic: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = topic.charCodeAt(i);
    if (c === 43 || c === 35) return true;
  }
  return false;
}

/** Whether `topic` is a valid MQTT topic name to publish on: not empty, no wildcard, no U+0000. */
export function isTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000');
}
