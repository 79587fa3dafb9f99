/*
 * webhook_url - where a webhook may be sent: the URL's form, and whether an
 * address is one a user must not make the server reach (its own network).
 *
 * webhook_url_parse    split an http(s) URL into scheme, host and port; -1 with WHY when it
 *                      is not one (no user:password@, no spaces or control characters)
 * webhook_addr_private is an address loopback, link-local, private, shared, multicast or
 *                      reserved (IPv4 and IPv6, an IPv4 inside an IPv6 one included)
 * webhook_host_private the same for a host written as an address literal; false for a name
 * webhook_url_check    webhook_url_parse, then resolve the host (a name that resolves to nothing
 *                      is refused): every address it has must be public unless ALLOW_PRIVATE;
 *                      -1 with WHY (one line) otherwise
 *
 * The worker checks again at connect time each address it is about to use, so a name
 * that resolves differently later (DNS rebinding) reaches no private address either.
 */
#ifndef POSTINO_NET_WEBHOOK_URL_H
#define POSTINO_NET_WEBHOOK_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define WEBHOOK_URL_MAX 2000

struct webhook_url {
    bool https;
    char host[256];     /* without the brackets of an IPv6 literal */
    int port;
};

int webhook_url_parse(const char *url, struct webhook_url *u, char *why, size_t whylen);
bool webhook_addr_private(const struct sockaddr *sa);
bool webhook_host_private(const char *host);
int webhook_url_check(const char *url, bool allow_private, char *why, size_t whylen);

#endif
