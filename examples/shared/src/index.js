// @ts-check
export { createNotes, readNote, createBilling, MAX_NOTE_LENGTH } from "./data.js";
export { userOf, userName, userCookie, USER_HEADER, USER_COOKIE } from "./users.js";
export { homePage, accountPage, invoicesPage, isReadOnly } from "./pages.js";
export { problem, NOT_SIGNED_IN, PROBLEM_JSON } from "./api.js";
export { openStore } from "./store.js";
export { portFrom, listenHttp, exampleServer, stopOnSignals, isMain, serve } from "./server.js";

/** @typedef {import("./data.js").Notes} Notes */
/** @typedef {import("./data.js").Billing} Billing */
/** @typedef {import("./data.js").Note} Note */
/** @typedef {import("./data.js").Invoice} Invoice */
/** @typedef {import("./server.js").RunningServer} RunningServer */
/** @typedef {import("./server.js").StartOptions} StartOptions */
