// Package web is the agent's branch UIs: the kiosk, the executive terminal, the
// waiting-room display and the branch status page. Pages are html/template
// shells embedded in the binary, parsed and rendered once per language at
// start-up; plain JS (assets/*.js, no build step) talks to the LAN API
// (/api/v1) and its live stream (/api/v1/stream). Nothing is loaded from the
// internet, so every page works with the WAN down.
//
// # Pages
//
//	/          links to the pages
//	/kiosk     service → optional RUT (keypad, live mod-11 check) → normal or
//	           preferential → number, position, estimated range, Telegram QR,
//	           80 mm print layout (@media print), back to the start after 20 s
//	/terminal  executive sign-in (executive, PIN, counter); current ticket with
//	           timer; call next (N), recall (R), start (S), finish with outcome
//	           codes (F), no-show (X), transfer to a service, counter or
//	           executive (T), requeue, park and call back, call a waiting
//	           ticket out of order, walk-in, pause by reason (P); no-show,
//	           transfer and cancel wait a 10 s undo window; the customer in
//	           front of him (masked RUT, history); the queues he serves
//	/display   1920×1080 board: newest call highlighted, the previous ones,
//	           waiting per service; chime (WebAudio) and spoken call
//	           (speechSynthesis, es-CL: "Número C 23, módulo 5")
//	/branch    the manager's page: queues, executives, sync state, day figures
//	/assets/   content-hashed CSS and JS (immutable), and /assets/qr/{token}.svg,
//	           the QR of t.me/<bot>?start=<token>
//
// # Language
//
// Spanish (es-CL), the branch's language, unless ?lang=en: the browser's
// Accept-Language is ignored (a device's locale says nothing about the
// customer in front of it); a device meant to start in English has ?lang=en in
// its start URL, and English is one tap away on every page. Links keep an
// explicit ?lang. On the kiosk the tap keeps the device's settings (?return,
// ?print) and lasts one visit: when it ends (done, the countdown, idle) the
// kiosk is back in its own language for the next customer. Every string is in shared/i18n (messages_ui.go); each page
// carries its language's "ui.", "status." and "priority." entries as JSON in
// <body data-catalogue>, for the scripts. The scripts send the same language
// to the API, so its problem+json titles match the page.
//
// # Live updates and recovery
//
// Pages never rebuild state from the stream: on every stream event they
// refetch the API (debounced), on every (re)connection ("hello") they refetch
// everything, and a periodic refetch is the safety net. A broken stream is
// reopened with a capped backoff (0.5 s to 8 s), so an agent restart heals
// without a reload; when the agent comes back with another version (an
// upgrade), idle pages reload themselves onto the new assets. The kiosk sends
// one Idempotency-Key per attempt and keeps it across its retries (network
// errors and 5xx, up to 2 minutes), so a ticket is never doubled.
//
// # Devices
//
// Per-device settings go in the start URL: the kiosk takes ?return=N (seconds on
// the result screen, 2–300) and ?print=auto (print every ticket); the display
// takes ?highlight=N (seconds the newest call stays highlighted, 5–900,
// default 60). Suggested chromium flags: kiosk — --kiosk --kiosk-printing
// (silent print to the default, thermal, printer); display — --kiosk
// --autoplay-policy=no-user-gesture-required (else the board shows a "touch to
// enable sound" button and stays silent until touched, but keeps updating: it
// never calls speechSynthesis.speak() without a gesture or that flag).
//
// The display asks for the waiting counts only (GET /api/v1/queues?tickets=none)
// and refetches them on ticket events, the last calls on a call.
//
// Pages send a strict Content-Security-Policy (self only, no inline script).
// Pages, scripts, styles and JSON are gzip-compressed for clients that ask
// (agent/http); the live stream is not.
package web
