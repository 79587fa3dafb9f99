/*
 * dns_records - DKIM key and DMARC policy records (see dns_records.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/dns_records.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

static void whyf(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && len)
        vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

static bool wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * the next tag of a tag-list at *P: its name and value trimmed of whitespace;
 * 1 with them set, 0 at the end, -1 when malformed (a name that is not
 * ALPHA *(ALNUM / "_"), or no "=")
 */
static int tag_next(const char **pp, const char **name, size_t *nl, const char **val, size_t *vl)
{
    const char *p = *pp;
    while (wsp(*p) || *p == ';')
        p++;
    if (!*p)
        return 0;
    *name = p;
    if (!isalpha((unsigned char)*p))
        return -1;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    *nl = (size_t)(p - *name);
    while (wsp(*p))
        p++;
    if (*p != '=')
        return -1;
    p++;
    while (wsp(*p))
        p++;
    *val = p;
    while (*p && *p != ';')
        p++;
    const char *e = p;
    while (e > *val && wsp(e[-1]))
        e--;
    *vl = (size_t)(e - *val);
    *pp = p;
    return 1;
}

static bool tag_is(const char *name, size_t nl, const char *want)
{
    return strlen(want) == nl && strncmp(name, want, nl) == 0;
}

/* dkim_record_parse - TXT (a selector's key record) into R; -1 with WHY when malformed or without p=. */
int dkim_record_parse(const char *txt, struct dkim_record *r, char *why, size_t whylen)
{
    const char *p = txt, *name, *val;
    size_t nl, vl;
    int rc, n = 0;
    char seen[32] = "";
    memset(r, 0, sizeof(*r));
    snprintf(r->key_type, sizeof(r->key_type), "rsa");
    while ((rc = tag_next(&p, &name, &nl, &val, &vl)) == 1) {
        n++;
        if (nl == 1 && strchr(seen, name[0])) {
            whyf(why, whylen, "the tag %c= appears twice", name[0]);
            goto fail;
        }
        if (nl == 1 && strlen(seen) < sizeof(seen) - 1)
            strncat(seen, name, 1);
        if (tag_is(name, nl, "v")) {
            if (n != 1 || vl != 5 || strncmp(val, "DKIM1", 5) != 0) {
                whyf(why, whylen, "v= must come first and be DKIM1");
                goto fail;
            }
            r->has_v = true;
        } else if (tag_is(name, nl, "k")) {
            snprintf(r->key_type, sizeof(r->key_type), "%.*s", (int)vl, val);
        } else if (tag_is(name, nl, "h")) {
            snprintf(r->hashes, sizeof(r->hashes), "%.*s", (int)vl, val);
        } else if (tag_is(name, nl, "t")) {
            for (size_t i = 0; i < vl; i++)
                if (val[i] == 'y' && (i == 0 || val[i - 1] == ':' || wsp(val[i - 1])) &&
                    (i + 1 == vl || val[i + 1] == ':' || wsp(val[i + 1])))
                    r->testing = true;
        } else if (tag_is(name, nl, "p")) {
            struct buf b = BUF_INIT;
            for (size_t i = 0; i < vl; i++) {
                if (wsp(val[i]))
                    continue;
                if (!isalnum((unsigned char)val[i]) && val[i] != '+' && val[i] != '/' && val[i] != '=') {
                    buf_free(&b);
                    whyf(why, whylen, "p= is not base64");
                    goto fail;
                }
                buf_appendc(&b, val[i]);
            }
            r->p = buf_detach(&b, NULL);
            if (!r->p)
                r->p = xstrdup("");
        }
    }
    if (rc < 0) {
        whyf(why, whylen, "not a tag=value list");
        goto fail;
    }
    if (!r->p) {
        whyf(why, whylen, "no p= tag (the public key)");
        goto fail;
    }
    return 0;
fail:
    dkim_record_free(r);
    return -1;
}

/* dkim_record_free - free R's key. */
void dkim_record_free(struct dkim_record *r)
{
    xfree(r->p);
    r->p = NULL;
}

/* dmarc_is_record - does TXT start with the v=DMARC1 tag. */
bool dmarc_is_record(const char *txt)
{
    while (wsp(*txt))
        txt++;
    if (strncmp(txt, "v", 1) != 0)
        return false;
    txt++;
    while (wsp(*txt))
        txt++;
    if (*txt++ != '=')
        return false;
    while (wsp(*txt))
        txt++;
    return strncmp(txt, "DMARC1", 6) == 0 && (txt[6] == '\0' || txt[6] == ';' || wsp(txt[6]));
}

static int policy_parse(const char *val, size_t vl, enum dmarc_policy *p)
{
    if (vl == 4 && strncasecmp(val, "none", 4) == 0)
        *p = DMARC_NONE;
    else if (vl == 10 && strncasecmp(val, "quarantine", 10) == 0)
        *p = DMARC_QUARANTINE;
    else if (vl == 6 && strncasecmp(val, "reject", 6) == 0)
        *p = DMARC_REJECT;
    else
        return -1;
    return 0;
}

static int mode_parse(const char *val, size_t vl, bool *strict)
{
    if (vl != 1 || (val[0] != 'r' && val[0] != 's'))
        return -1;
    *strict = val[0] == 's';
    return 0;
}

/* dmarc_parse - TXT (a _dmarc record) into R; -1 with WHY when v=DMARC1 is not first or p= is missing or bad. */
int dmarc_parse(const char *txt, struct dmarc_record *r, char *why, size_t whylen)
{
    const char *p = txt, *name, *val;
    size_t nl, vl;
    int rc, n = 0;
    bool has_p = false;
    memset(r, 0, sizeof(*r));
    r->pct = 100;
    while ((rc = tag_next(&p, &name, &nl, &val, &vl)) == 1) {
        if (n++ == 0 && !(tag_is(name, nl, "v") && vl == 6 && strncmp(val, "DMARC1", 6) == 0)) {
            whyf(why, whylen, "the record must start with v=DMARC1");
            return -1;
        }
        if (tag_is(name, nl, "p")) {
            if (policy_parse(val, vl, &r->p) < 0) {
                whyf(why, whylen, "p= must be none, quarantine or reject, not \"%.*s\"", (int)(vl > 20 ? 20 : vl), val);
                return -1;
            }
            has_p = true;
        } else if (tag_is(name, nl, "sp")) {
            if (policy_parse(val, vl, &r->sp) < 0) {
                whyf(why, whylen, "sp= must be none, quarantine or reject");
                return -1;
            }
            r->has_sp = true;
        } else if (tag_is(name, nl, "adkim") || tag_is(name, nl, "aspf")) {
            if (mode_parse(val, vl, name[1] == 'd' ? &r->adkim_strict : &r->aspf_strict) < 0) {
                whyf(why, whylen, "%.*s= must be r or s", (int)nl, name);
                return -1;
            }
        } else if (tag_is(name, nl, "pct")) {
            int v = 0;
            size_t i;
            for (i = 0; i < vl && i < 3 && isdigit((unsigned char)val[i]); i++)
                v = v * 10 + (val[i] - '0');
            if (vl == 0 || i != vl || v > 100) {
                whyf(why, whylen, "pct= must be a number from 0 to 100");
                return -1;
            }
            r->pct = v;
        } else if (tag_is(name, nl, "rua")) {
            snprintf(r->rua, sizeof(r->rua), "%.*s", (int)(vl < sizeof(r->rua) ? vl : sizeof(r->rua) - 1), val);
        }
    }
    if (rc < 0 || n == 0) {
        whyf(why, whylen, n == 0 ? "empty record" : "not a tag=value list");
        return -1;
    }
    if (!has_p) {
        whyf(why, whylen, "no p= tag (the policy)");
        return -1;
    }
    if (!r->has_sp)
        r->sp = r->p;
    return 0;
}

/* dmarc_policy_name - "none", "quarantine" or "reject". */
const char *dmarc_policy_name(enum dmarc_policy p)
{
    return p == DMARC_REJECT ? "reject" : p == DMARC_QUARANTINE ? "quarantine" : "none";
}

/* dmarc_org_domain - DOMAIN's organizational domain into OUT (RFC 7489 3.2): the longest public suffix
 * IS_SUFFIX knows plus one label; without IS_SUFFIX, or when none is known, the last two labels. */
void dmarc_org_domain(const char *domain, dmarc_suffix_fn is_suffix, void *arg, char *out, size_t outlen)
{
    const char *best = NULL, *prev = NULL;
    for (const char *p = domain; p; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL) {
        if (is_suffix && prev && *p && is_suffix(p, arg)) {
            best = prev;
            break;
        }
        prev = p;
    }
    if (!best) {
        /* the last two labels */
        const char *last = strrchr(domain, '.');
        best = domain;
        if (last) {
            best = last;
            while (best > domain && best[-1] != '.')
                best--;
        }
    }
    snprintf(out, outlen, "%s", best);
}

/* dmarc_aligned - are A and B the same (STRICT) or under the same organizational domain. */
bool dmarc_aligned(const char *a, const char *b, bool strict, dmarc_suffix_fn is_suffix, void *arg)
{
    if (strcasecmp(a, b) == 0)
        return true;
    if (strict)
        return false;
    char oa[256], ob[256];
    dmarc_org_domain(a, is_suffix, arg, oa, sizeof(oa));
    dmarc_org_domain(b, is_suffix, arg, ob, sizeof(ob));
    return strcasecmp(oa, ob) == 0;
}
