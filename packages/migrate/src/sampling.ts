/**
 * LaunchDarkly's `shouldSample` (js-sdk-common), kept exact: the ratio is
 * truncated; 1 always, 0 never, N one draw in N (negative N never).
 */
export function shouldSample(ratio: number, random: () => number): boolean {
  const truncated = Math.trunc(ratio);
  if (truncated === 1) return true;
  if (truncated === 0) return false;
  return Math.floor(random() * truncated) === 0;
}
