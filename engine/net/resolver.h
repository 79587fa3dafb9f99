/*
 * resolver - DNS questions from a libuv loop through c-ares: c-ares's sockets
 * sit on uv_poll_t handles and its retransmission timeouts on a uv_timer_t,
 * so the loop never blocks on the network (no getaddrinfo, no res_query).
 *
 * resolver_new    a resolver on LOOP asking SERVERS ("127.0.0.1:5353,[::1]:53"; NULL or
 *                 "": the system's resolv.conf), each try waiting TRY_MS; NULL with ERR
 * resolver_query  ask NAME's records of TYPE (dns_cache.h's DNS_T_*); CB runs once with
 *                 the outcome, the records parsed (never when this fails)
 * resolver_close  cancel what is under way (callbacks run with DNS_SERVFAIL), close the
 *                 handles; CLOSED (may be NULL) runs once they are freed
 */
#ifndef POSTINO_NET_RESOLVER_H
#define POSTINO_NET_RESOLVER_H

#include <stddef.h>
#include <uv.h>

#include "engine/mail/dns_cache.h"

struct resolver;

typedef void (*resolver_cb)(void *arg, const char *name, int type, enum dns_status status, const struct dns_rr *rr,
                            size_t n);

struct resolver *resolver_new(uv_loop_t *loop, const char *servers, unsigned try_ms, char *err, size_t errlen);
int resolver_query(struct resolver *r, const char *name, int type, resolver_cb cb, void *arg);
void resolver_close(struct resolver *r, void (*closed)(void *arg), void *arg);

#endif
