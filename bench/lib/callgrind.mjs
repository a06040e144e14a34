// Reads a callgrind output file: the totals, the self cost of every function,
// and how much of it is V8 garbage collection or JIT work (by function name).
import { readFileSync } from "node:fs";

/**
 * Functions whose own (self) instructions are garbage-collection work. Self
 * costs are exact (every instruction belongs to the function that contains it),
 * unlike inclusive costs, which callgrind derives from a shadow call stack that
 * JIT code, deoptimization and on-stack replacement confuse.
 */
export const GC_SELF =
  /^v8::internal::(Heap::|Scaveng|Sweeper|Marking|MarkCompact|IncrementalMarking|ConcurrentMarking|MinorGC|MemoryReducer|MemoryAllocator|Evacuat|PagedSpace|SemiSpace|NewSpace|LargeObjectSpace|RememberedSet|SlotSet|TypedSlot|MainMarkingVisitor|MarkingVisitor|BasicMemoryChunk|MemoryChunk|Page::|LiveObjectRange|HeapObject::SizeFromMap|BodyDescriptor|\w*Visitor|ObjectStats|GCTracer|Safepoint|ArrayBufferSweeper|EphemeronRemember|WeakObjects|\w*Worklist)/;
/** Functions whose own instructions are JIT work: parsing, bytecode, baseline and optimizing compilation, deoptimization. */
export const JIT_SELF =
  /(^|[ <(,])v8::internal::(compiler|baseline|maglev|interpreter)::|^v8::internal::(Compiler::|Deoptimizer|DependentCode|OptimizingCompileDispatcher|Zone|AccountingAllocator|TranslatedState|TranslationArray|SourcePositionTableBuilder|BytecodeGenerator|Parser|ParserBase|Scanner|AstValueFactory|DeclarationScope|Scope::|Runtime_Compile|Runtime_NotifyDeoptimized|CodeDesc|Assembler|MacroAssembler|RelocInfo|SafepointTableBuilder)/;

/**
 * The qualified name of a function from callgrind's demangled signature:
 * "auto v8::internal::compiler::PipelineImpl::Run<X>(args) const" →
 * "v8::internal::compiler::PipelineImpl::Run<X>" (return type and parameters dropped).
 */
export function qualified(full) {
  const signature = full.replaceAll("(anonymous namespace)", "{anon}");
  let depth = 0;
  let end = signature.length;
  let start = 0;
  for (let i = 0; i < signature.length; i++) {
    const ch = signature[i];
    if (ch === "<") depth++;
    else if (ch === ">") depth--;
    else if (depth === 0 && ch === "(" && i > 0) {
      end = i;
      break;
    } else if (depth === 0 && ch === " ") start = i + 1;
  }
  return signature.slice(start, end).replaceAll("{anon}", "(anonymous namespace)");
}

/** Parses a callgrind dump (events: Ir). */
export function parseCallgrind(path) {
  const text = readFileSync(path, "utf8");
  const names = new Map(); // "(id)" → name, shared by fn/cfn
  const nameOf = (spec) => {
    const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(spec);
    if (!m) return spec;
    if (m[2] !== undefined) names.set(m[1], m[2]);
    return names.get(m[1]) ?? spec;
  };
  let totals = null;
  let fn = "";
  let cfn = "";
  let inCall = false;
  const arcs = new Map(); // callee → Map(caller → Ir)
  const self = new Map();
  let sumSelf = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const c = line.charCodeAt(0);
    // cost lines start with a digit, '+', '-' or '*'
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      const sp = line.indexOf(" ");
      const ir = sp === -1 ? 0 : Number(line.slice(sp + 1).split(" ")[0]);
      if (inCall) {
        let callers = arcs.get(cfn);
        if (!callers) arcs.set(cfn, (callers = new Map()));
        callers.set(fn, (callers.get(fn) ?? 0) + ir);
        inCall = false;
      } else {
        self.set(fn, (self.get(fn) ?? 0) + ir);
        sumSelf += ir;
      }
      continue;
    }
    if (line.startsWith("fn=")) fn = stripRec(nameOf(line.slice(3)));
    else if (line.startsWith("cfn=")) cfn = stripRec(nameOf(line.slice(4)));
    else if (line.startsWith("calls=")) inCall = true;
    else if (line.startsWith("totals:")) totals = Number(line.slice(7).trim().split(" ")[0]);
    else if (line.startsWith("summary:") && totals === null) totals = Number(line.slice(8).trim().split(" ")[0]);
  }
  totals ??= sumSelf;

  const q = new Map();
  const test = (regex, name) => {
    let short = q.get(name);
    if (short === undefined) q.set(name, (short = qualified(name)));
    return regex.test(short) || regex.test(name);
  };
  /** Self instructions split into garbage collection, JIT work and the rest. */
  function classify() {
    let gc = 0;
    let jit = 0;
    for (const [name, ir] of self) {
      if (test(GC_SELF, name)) gc += ir;
      else if (test(JIT_SELF, name)) jit += ir;
    }
    return { gc, jit, rest: sumSelf - gc - jit };
  }
  /** Self cost of the functions matching `regex`. */
  function selfOf(regex) {
    let sum = 0;
    for (const [name, ir] of self) if (test(regex, name)) sum += ir;
    return sum;
  }
  /** The most expensive functions by self cost. */
  function top(n = 20) {
    return [...self].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
  return { totals, classify, selfOf, top, self, arcs };
}

// callgrind separates recursion levels as `name'2`; they are the same function here.
function stripRec(name) {
  const q = name.lastIndexOf("'");
  return q > 0 && /^'\d+$/.test(name.slice(q)) ? name.slice(0, q) : name;
}

/**
 * Names for JIT code: callgrind reports V8-generated code as bare addresses
 * ("0x000000000d0f1f80"); `node --perf-basic-prof` writes /tmp/perf-<pid>.map
 * ("start size name" per code object, later lines winning where code space
 * was reused). Returns a function mapping a callgrind name to a readable one.
 */
export function perfMapResolver(path) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return (name) => name;
  }
  const entries = [];
  let order = 0;
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) entries.push({ start: parseInt(m[1], 16), end: parseInt(m[1], 16) + parseInt(m[2], 16), name: m[3], order: order++ });
  }
  entries.sort((a, b) => a.start - b.start || a.order - b.order);
  return (name) => {
    const m = /^0x([0-9a-f]+)$/.exec(name);
    if (!m) return name;
    const address = parseInt(m[1], 16);
    let best = null;
    // entries are few enough (thousands) for a scan around a binary-searched position
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entries[mid].start <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    for (let i = hi; i >= 0 && i > hi - 200; i--) {
      const e = entries[i];
      if (e.start <= address && address < e.end && (best === null || e.order > best.order)) best = e;
    }
    return best ? `${best.name.replace(/file:\/\/\/\S*\//g, "")}` : name;
  };
}
