/*
 * webhook_url - the URL of a webhook and the addresses it may reach.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/net/webhook_url.h"

/* is the IPv4 address A (host order) not a public one */
static bool v4_private(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } nets[] = {
        { 0x00000000, 0xff000000 }, /* 0/8 "this network" */
        { 0x0a000000, 0xff000000 }, /* 10/8 */
        { 0x64400000, 0xffc00000 }, /* 100.64/10 shared (CGNAT) */
        { 0x7f000000, 0xff000000 }, /* 127/8 loopback */
        { 0xa9fe0000, 0xffff0000 }, /* 169.254/16 link-local */
        { 0xac100000, 0xfff00000 }, /* 172.16/12 */
        { 0xc0000000, 0xffffff00 }, /* 192.0.0/24 protocol assignments */
        { 0xc0000200, 0xffffff00 }, /* 192.0.2/24 documentation */
        { 0xc0a80000, 0xffff0000 }, /* 192.168/16 */
        { 0xc6120000, 0xfffe0000 }, /* 198.18/15 benchmarking */
        { 0xc6336400, 0xffffff00 }, /* 198.51.100/24 documentation */
        { 0xcb007100, 0xffffff00 }, /* 203.0.113/24 documentation */
        { 0xe0000000, 0xf0000000 }, /* 224/4 multicast */
        { 0xf0000000, 0xf0000000 }, /* 240/4 reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
        if ((a & nets[i].mask) == nets[i].net)
            return true;
    return false;
}

static uint32_t v4_at(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* is the IPv6 address B not a public one (an embedded IPv4 judged as IPv4) */
static bool v6_private(const unsigned char *b)
{
    static const unsigned char zero[16];
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return true;                                   /* :: and ::1 */
    if (memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff)
        return v4_private(v4_at(b + 12));              /* ::ffff:a.b.c.d mapped */
    if (memcmp(b, zero, 12) == 0)
        return true;                                   /* ::a.b.c.d compatible (deprecated) */
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)
        return memcmp(b + 4, zero, 8) != 0 || v4_private(v4_at(b + 12)); /* 64:ff9b::/96 NAT64, 64:ff9b:1::/48 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return v4_private(v4_at(b + 2));               /* 2002::/16 6to4 */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return true;                                   /* 2001:db8::/32 documentation */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        return true;                                   /* 2001::/32 Teredo */
    if ((b[0] & 0xfe) == 0xfc)
        return true;                                   /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return true;                                   /* fe80::/10 link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return true;                                   /* fec0::/10 site-local (deprecated) */
    if (b[0] == 0xff)
        return true;                                   /* multicast */
    if (b[0] == 0x01 && memcmp(b + 1, zero, 7) == 0)
        return true;                                   /* 100::/64 discard */
    return (b[0] & 0xe0) != 0x20;                      /* outside 2000::/3, nothing global is assigned */
}

/* webhook_addr_private - see webhook_url.h; anything but IPv4 and IPv6 counts as private. */
bool webhook_addr_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        return v4_private(ntohl(s4->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6)
        return v6_private(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return true;
}

/* webhook_host_private - see webhook_url.h. */
bool webhook_host_private(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return v4_private(ntohl(a4.s_addr));
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return v6_private(a6.s6_addr);
    return false;
}

static int refuse(char *why, size_t len, const char *msg)
{
    snprintf(why, len, "%s", msg);
    return -1;
}

/* webhook_url_parse - see webhook_url.h. */
int webhook_url_parse(const char *url, struct webhook_url *u, char *why, size_t whylen)
{
    memset(u, 0, sizeof(*u));
    size_t n = strlen(url);
    if (n == 0 || n > WEBHOOK_URL_MAX)
        return refuse(why, whylen, "url must be 1 to 2000 characters");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
            return refuse(why, whylen, "url must be ASCII without spaces or control characters");
    const char *p;
    if (strncasecmp(url, "https://", 8) == 0) {
        u->https = true;
        u->port = 443;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        u->port = 80;
        p = url + 7;
    } else {
        return refuse(why, whylen, "url must start with https:// or http://");
    }
    size_t alen = strcspn(p, "/?#");
    if (memchr(p, '@', alen))
        return refuse(why, whylen, "url must not hold a user name or password");
    const char *end = p + alen, *hend, *port = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', alen);
        if (!close)
            return refuse(why, whylen, "url has an IPv6 address without its closing ]");
        if (close + 1 < end && close[1] != ':')
            return refuse(why, whylen, "url has something after its IPv6 address");
        port = close + 1 < end ? close + 2 : NULL;
        hend = close;
        p++;
    } else {
        const char *colon = memchr(p, ':', alen);
        hend = colon ? colon : end;
        port = colon ? colon + 1 : NULL;
    }
    size_t hlen = (size_t)(hend - p);
    if (hlen == 0 || hlen >= sizeof(u->host))
        return refuse(why, whylen, "url must name a host (at most 255 characters)");
    memcpy(u->host, p, hlen);
    u->host[hlen] = '\0';
    if (u->host[strspn(u->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%")] != '\0')
        return refuse(why, whylen, "url's host has characters a host name cannot have");
    if (*(p - 1) != '[' && strchr(u->host, ':'))
        return refuse(why, whylen, "url's host has characters a host name cannot have");
    if (*(p - 1) == '[') {
        struct in6_addr a6;
        if (inet_pton(AF_INET6, u->host, &a6) != 1)
            return refuse(why, whylen, "url's IPv6 address is not one");
    }
    if (port) {
        size_t plen = (size_t)(end - port);
        int v = 0;
        if (plen == 0 || plen > 5 || strspn(port, "0123456789") < plen)
            return refuse(why, whylen, "url's port must be a number from 1 to 65535");
        for (size_t i = 0; i < plen; i++)
            v = v * 10 + (port[i] - '0');
        if (v < 1 || v > 65535)
            return refuse(why, whylen, "url's port must be a number from 1 to 65535");
        u->port = v;
    }
    return 0;
}

/* webhook_url_check - see webhook_url.h. */
int webhook_url_check(const char *url, bool allow_private, char *why, size_t whylen)
{
    struct webhook_url u;
    if (webhook_url_parse(url, &u, why, whylen) < 0)
        return -1;
    if (!allow_private && webhook_host_private(u.host)) {
        snprintf(why, whylen, "url's host %s is a loopback, link-local or private address ([webhooks] allow_private)",
                 u.host);
        return -1;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
    int rc = getaddrinfo(u.host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(why, whylen, "url's host %s cannot be resolved: %s", u.host, gai_strerror(rc));
        return -1;
    }
    for (struct addrinfo *ai = res; ai && !allow_private; ai = ai->ai_next) {
        if (webhook_addr_private(ai->ai_addr)) {
            char addr[INET6_ADDRSTRLEN] = "?";
            const void *src = ai->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                       : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
            inet_ntop(ai->ai_family, src, addr, sizeof(addr));
            snprintf(why, whylen,
                     "url's host %s resolves to %s, a loopback, link-local or private address ([webhooks] allow_private)",
                     u.host, addr);
            freeaddrinfo(res);
            return -1;
        }
    }
    freeaddrinfo(res);
    return 0;
}
