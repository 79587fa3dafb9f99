/*
 * psl - Public Suffix List rules, kept sorted for bsearch (see psl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "engine/util/psl.h"
#include "engine/util/str.h"

struct psl {
    char **rules;   /* as written: "com", "*.ck", "!www.ck" */
    size_t n;
};

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* psl_load - the rules of the list at PATH; NULL when it cannot be read. */
struct psl *psl_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    struct psl *p = xcalloc(1, sizeof(*p));
    size_t cap = 0;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *s = str_trim(line);
        s[strcspn(s, " \t")] = '\0';
        if (!*s || (s[0] == '/' && s[1] == '/'))
            continue;
        if (p->n == cap) {
            cap = cap ? 2 * cap : 1024;
            p->rules = xrealloc(p->rules, cap * sizeof(*p->rules));
        }
        p->rules[p->n++] = str_lower(xstrdup(s));
    }
    fclose(f);
    qsort(p->rules, p->n, sizeof(*p->rules), cmp);
    return p;
}

static bool has(const struct psl *p, const char *rule)
{
    return bsearch(&rule, p->rules, p->n, sizeof(*p->rules), cmp) != NULL;
}

/* psl_is_suffix - is NAME a public suffix of list PSL (a struct psl *, void for use as a callback). */
bool psl_is_suffix(const char *name, void *psl)
{
    const struct psl *p = psl;
    if (!p || !*name)
        return false;
    char buf[300];
    snprintf(buf, sizeof(buf), "!%s", name);
    if (has(p, buf))
        return false;
    if (has(p, name))
        return true;
    const char *dot = strchr(name, '.');
    if (!dot)
        return false;
    snprintf(buf, sizeof(buf), "*%s", dot);
    return has(p, buf);
}

/* psl_free - free P. */
void psl_free(struct psl *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        xfree(p->rules[i]);
    xfree(p->rules);
    xfree(p);
}
