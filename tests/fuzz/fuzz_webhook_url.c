/*
 * fuzz_webhook_url - libFuzzer target for the webhook URL parser and the
 * address classifier, which read what a user gives as an endpoint. The input
 * (cut at 2,100 bytes) is parsed as a URL: a URL taken must have a host of
 * the allowed characters and a port from 1 to 65535, and its host is then
 * classified as an address literal; the first 16 bytes are also classified
 * as an IPv6 address and the first 4 as an IPv4 one (never a crash, and an
 * IPv4-mapped address is judged as its IPv4 address).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/net/webhook_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[2101], why[300];
    size_t n = size < 2100 ? size : 2100;
    memcpy(in, data, n);
    in[n] = 0;
    struct webhook_url u;
    if (webhook_url_parse(in, &u, why, sizeof(why)) == 0) {
        if (u.port < 1 || u.port > 65535 || !u.host[0] || strlen(u.host) > 255)
            __builtin_trap();
        (void)webhook_host_private(u.host);
    } else if (!why[0]) {
        __builtin_trap();
    }
    if (size >= 16) {
        struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in s4 = { .sin_family = AF_INET };
        memcpy(&s6.sin6_addr, data, 16);
        memcpy(&s4.sin_addr, data, 4);
        bool p4 = webhook_addr_private((struct sockaddr *)&s4);
        memset(&s6.sin6_addr, 0, 10);
        s6.sin6_addr.s6_addr[10] = s6.sin6_addr.s6_addr[11] = 0xff;
        memcpy(&s6.sin6_addr.s6_addr[12], data, 4);
        if (webhook_addr_private((struct sockaddr *)&s6) != p4)
            __builtin_trap();
    }
    return 0;
}
