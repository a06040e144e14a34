// madge ships no typings: the part of its API the cycle test uses.
declare module "madge" {
  interface MadgeResult {
    /** Each file (relative to the base directory) with the files it imports. */
    obj(): Record<string, string[]>;
  }
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string;
  }
  export default function madge(path: string, config?: MadgeConfig): Promise<MadgeResult>;
}
