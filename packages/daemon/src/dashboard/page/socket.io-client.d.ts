// Types of `/socket.io/socket.io.esm.min.js`, the client Socket.IO serves next to the page
// (tsconfig.dashboard-page.json maps that URL here). Never served: the daemon serves only
// the page's .html, .css and .js files.
export { io, type Socket } from 'socket.io-client';
