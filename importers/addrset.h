/*
 * addrset - which addresses an import has seen, as 64-bit hashes of a folded key.
 *
 * import_addrset_init   an empty set that holds at most a given number of keys
 * import_addrset_add    remember an address; say whether it surely differs from all before it
 * import_addrset_free   release the set
 *
 * The answer errs one way only: "surely new" is never wrong, "maybe seen"
 * can be (two keys with one hash, an address that is not plain ASCII, a
 * full set). Memory is 8 bytes a slot, 4/3 to 8/3 slots a key.
 */
#ifndef POSTINO_IMPORTERS_ADDRSET_H
#define POSTINO_IMPORTERS_ADDRSET_H

#include <stddef.h>
#include <stdint.h>

struct import_addrset {
    uint64_t *slot;     /* 0: empty */
    size_t cap;         /* a power of two, or 0 */
    size_t n, max;
};

void import_addrset_init(struct import_addrset *s, size_t max);
int import_addrset_add(struct import_addrset *s, const char *email);
void import_addrset_free(struct import_addrset *s);

#endif
