"""One router per resource; each handler parses, authorises, calls one service, returns."""
