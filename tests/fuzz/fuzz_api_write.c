/*
 * fuzz_api_write - the notations the API's write routes parse from request
 * fields: a campaign's From ("Name <addr>") and a relay's rate and quota
 * ("N/PERIOD"). Whatever the input, a success yields a normalised address
 * and a name that fit their buffers, or a positive count and period.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "engine/mail/address.h"
#include "engine/send/relay.h"
#include "engine/util/alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    char name[601], addr[ADDRESS_MAX + 1];
    const char *why = NULL;
    double n;
    long period;
    if (address_mailbox_parse(s, name, sizeof(name), addr, &why) == 0) {
        if (strlen(addr) > ADDRESS_MAX || !strchr(addr, '@') || strlen(name) > 600)
            abort();
    } else if (!why) {
        abort();
    }
    for (int bare = 0; bare < 2; bare++)
        if (relay_per_parse(s, bare, &n, &period) == 0 && (!(n > 0) || period <= 0))
            abort();
    xfree(s);
    return 0;
}
