/*
 * psl - the Public Suffix List (publicsuffix.org), read from its text form
 * (Debian's publicsuffix package: /usr/share/publicsuffix/public_suffix_list.dat).
 *
 * psl_load       the rules of the file at PATH; NULL when it cannot be read
 * psl_is_suffix  is NAME (lower case, no final dot) a public suffix by the list's rules
 *                (plain, "*." wildcard and "!" exception rules); a NULL list knows none
 * psl_free       free a list
 */
#ifndef POSTINO_UTIL_PSL_H
#define POSTINO_UTIL_PSL_H

#include <stdbool.h>

struct psl;

struct psl *psl_load(const char *path);
bool psl_is_suffix(const char *name, void *psl);
void psl_free(struct psl *p);

#endif
