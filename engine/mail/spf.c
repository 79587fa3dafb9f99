/*
 * spf - SPF records parsed and evaluated (see spf.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/mail/spf.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"

/* spf_is_record - does TXT start with "v=spf1", followed by a space or nothing. */
bool spf_is_record(const char *txt)
{
    return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == '\0' || txt[6] == ' ');
}

static void whyf(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && len)
        vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* ---- macros (section 7) ---- */

static bool is_delim(char c)
{
    return c && strchr(".-+,/_=", c) != NULL;
}

/* the value of macro LETTER (lower case); NULL when IN is NULL (syntax check only) */
static const char *macro_value(char letter, const struct spf_input *in, const char *domain, char *tmp, size_t tmplen)
{
    if (!in)
        return "";
    const char *sender = in->sender ? in->sender : "";
    const char *at = strrchr(sender, '@');
    switch (letter) {
    case 's': return sender;
    case 'l':
        snprintf(tmp, tmplen, "%.*s", at ? (int)(at - sender) : 0, sender);
        if (!tmp[0])
            snprintf(tmp, tmplen, "postmaster");
        return tmp;
    case 'o': return at ? at + 1 : domain;
    case 'd': return domain;
    case 'h': return in->helo ? in->helo : domain;
    case 'v': return in->family == 4 ? "in-addr" : "ip6";
    case 'p': return "unknown";
    case 'i':
    case 'c':
        if (in->family == 4) {
            snprintf(tmp, tmplen, "%u.%u.%u.%u", in->ip[0], in->ip[1], in->ip[2], in->ip[3]);
        } else if (letter == 'c') {
            inet_ntop(AF_INET6, in->ip, tmp, (socklen_t)tmplen);
        } else {
            static const char hex[] = "0123456789abcdef";
            char *p = tmp;
            for (int i = 0; i < 16; i++) {
                *p++ = hex[in->ip[i] >> 4], *p++ = '.';
                *p++ = hex[in->ip[i] & 15], *p++ = i < 15 ? '.' : '\0';
            }
        }
        return tmp;
    case 'r': return "unknown";
    case 't': return "0";
    default: return NULL;
    }
}

/* append VALUE to OUT split on DELIMS, reversed when REV, its rightmost KEEP parts (0: all), joined with dots */
static void macro_transform(struct buf *out, const char *value, const char *delims, bool rev, long keep)
{
    const char *parts[128];
    size_t lens[128], n = 0;
    const char *p = value;
    while (n < 128) {
        size_t l = strcspn(p, delims);
        parts[n] = p, lens[n++] = l;
        if (!p[l])
            break;
        p += l + 1;
    }
    if (rev)
        for (size_t i = 0; i < n / 2; i++) {
            const char *tp = parts[i];
            size_t tl = lens[i];
            parts[i] = parts[n - 1 - i], lens[i] = lens[n - 1 - i];
            parts[n - 1 - i] = tp, lens[n - 1 - i] = tl;
        }
    size_t from = keep > 0 && (size_t)keep < n ? n - (size_t)keep : 0;
    for (size_t i = from; i < n; i++) {
        if (i > from)
            buf_appendc(out, '.');
        buf_append(out, parts[i], lens[i]);
    }
}

/* spf_macro_expand - SPEC with its macros expanded for IN and DOMAIN into OUT (or only checked when IN is NULL);
 * a result over 253 octets loses labels from the left. 0, or -1 with WHY. */
int spf_macro_expand(const char *spec, const struct spf_input *in, const char *domain, char *out, size_t outlen,
                     char *why, size_t whylen)
{
    struct buf b = BUF_INIT;
    int rc = 0;
    for (const char *p = spec; *p && rc == 0; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch != '%') {
            if (ch < 0x21 || ch > 0x7e) {
                whyf(why, whylen, "invalid character in \"%.60s\"", spec);
                rc = -1;
            }
            buf_appendc(&b, (char)ch);
            continue;
        }
        p++;
        if (*p == '%' || *p == '_' || *p == '-') {
            buf_appends(&b, *p == '%' ? "%" : *p == '_' ? " " : "%20");
            continue;
        }
        if (*p != '{' || !isalpha((unsigned char)p[1])) {
            whyf(why, whylen, "bad macro in \"%.60s\": '%%' must be followed by {letter}, %%, _ or -", spec);
            rc = -1;
            break;
        }
        char letter = (char)tolower((unsigned char)p[1]), tmp[80], delims[16] = "";
        p += 2;
        long keep = 0;
        bool digits = false, rev = false;
        while (isdigit((unsigned char)*p) && keep < 1000)
            keep = keep * 10 + (*p++ - '0'), digits = true;
        if (*p == 'r' || *p == 'R')
            rev = true, p++;
        size_t nd = 0;
        while (is_delim(*p) && nd < sizeof(delims) - 1)
            delims[nd++] = *p++;
        delims[nd] = '\0';
        const char *v = macro_value(letter, in, domain, tmp, sizeof(tmp));
        if (*p != '}' || !strchr("slodiphcrtv", letter) || (digits && keep == 0)) {
            whyf(why, whylen, "bad macro in \"%.60s\"", spec);
            rc = -1;
            break;
        }
        macro_transform(&b, v ? v : "", nd ? delims : ".", rev, keep);
    }
    const char *s = buf_cstr(&b);
    while (rc == 0 && strlen(s) > DNS_NAME_MAX && strchr(s, '.'))
        s = strchr(s, '.') + 1;
    if (rc == 0 && strlen(s) >= outlen) {
        whyf(why, whylen, "\"%.60s\" expands to a name too long", spec);
        rc = -1;
    }
    if (rc == 0)
        snprintf(out, outlen, "%s", s);
    buf_free(&b);
    return rc;
}

/* ---- parsing (section 4.6, 5, 6) ---- */

static int cidr_parse(const char **pp, int max, int *out)
{
    const char *p = *pp;
    if (!isdigit((unsigned char)*p) || (p[0] == '0' && isdigit((unsigned char)p[1])))
        return -1;
    long v = 0;
    while (isdigit((unsigned char)*p) && v <= max)
        v = v * 10 + (*p++ - '0');
    if (v > max)
        return -1;
    *out = (int)v;
    *pp = p;
    return 0;
}

/* "/n", "//m" or "/n//m" at the end of a/mx; -1 when malformed */
static int dual_cidr_parse(const char *p, struct spf_term *t)
{
    if (!*p)
        return 0;
    if (p[0] == '/' && p[1] != '/') {
        p++;
        if (cidr_parse(&p, 32, &t->cidr4) < 0)
            return -1;
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        if (cidr_parse(&p, 128, &t->cidr6) < 0)
            return -1;
    }
    return *p ? -1 : 0;
}

static const struct {
    const char *name;
    enum spf_mech mech;
} mechs[] = {
    { "all", SPF_ALL }, { "include", SPF_INCLUDE }, { "a", SPF_A },     { "mx", SPF_MX },
    { "ptr", SPF_PTR }, { "ip4", SPF_IP4 },         { "ip6", SPF_IP6 }, { "exists", SPF_EXISTS },
};

static int term_parse(const char *term, struct spf_term *t, char *why, size_t whylen)
{
    const char *p = term;
    memset(t, 0, sizeof(*t));
    t->qual = strchr("+-~?", *p) ? *p++ : '+';
    size_t nl = strcspn(p, ":/");
    size_t i;
    for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
        if (strlen(mechs[i].name) == nl && strncasecmp(p, mechs[i].name, nl) == 0)
            break;
    if (i == sizeof(mechs) / sizeof(mechs[0])) {
        whyf(why, whylen, "unknown mechanism '%.40s'", term);
        return -1;
    }
    t->mech = mechs[i].mech;
    t->cidr4 = 32, t->cidr6 = 128;
    p += nl;
    const char *rest = p;
    if (t->mech == SPF_ALL) {
        if (*p)
            goto bad;
        return 0;
    }
    if (t->mech == SPF_IP4 || t->mech == SPF_IP6) {
        if (*p++ != ':')
            goto bad;
        const char *slash = strchr(p, '/');
        char addr[64];
        size_t al = slash ? (size_t)(slash - p) : strlen(p);
        if (al == 0 || al >= sizeof(addr))
            goto bad;
        memcpy(addr, p, al);
        addr[al] = '\0';
        if (inet_pton(t->mech == SPF_IP4 ? AF_INET : AF_INET6, addr, t->addr) != 1)
            goto bad;
        if (slash) {
            const char *c = slash + 1;
            if (cidr_parse(&c, t->mech == SPF_IP4 ? 32 : 128, t->mech == SPF_IP4 ? &t->cidr4 : &t->cidr6) < 0 || *c)
                goto bad;
        }
        return 0;
    }
    if (*p == ':') {
        p++;
        size_t sl = t->mech == SPF_A || t->mech == SPF_MX ? strcspn(p, "/") : strlen(p);
        if (sl == 0)
            goto bad;
        t->spec = xstrndup(p, sl);
        char tmp[DNS_NAME_MAX + 1];
        if (spf_macro_expand(t->spec, NULL, "", tmp, sizeof(tmp), why, whylen) < 0)
            goto bad_spec;
        rest = p + sl;
    } else if (t->mech == SPF_INCLUDE || t->mech == SPF_EXISTS) {
        goto bad;
    }
    if (t->mech == SPF_A || t->mech == SPF_MX) {
        if (dual_cidr_parse(rest, t) < 0)
            goto bad;
    } else if (*rest) {
        goto bad;
    }
    return 0;
bad:
    whyf(why, whylen, "malformed term '%.60s'", term);
bad_spec:
    xfree(t->spec);
    t->spec = NULL;
    return -1;
}

/* is TERM a modifier (name=value)? NAME and its length then set */
static bool is_modifier(const char *term, size_t *nl)
{
    if (!isalpha((unsigned char)term[0]))
        return false;
    size_t i = 1;
    while (isalnum((unsigned char)term[i]) || term[i] == '-' || term[i] == '_' || term[i] == '.')
        i++;
    *nl = i;
    return term[i] == '=';
}

/* spf_parse - the terms of TXT (a v=spf1 record) into R; -1 with WHY on a syntax error (R then empty). */
int spf_parse(const char *txt, struct spf_record *r, char *why, size_t whylen)
{
    memset(r, 0, sizeof(*r));
    if (!spf_is_record(txt)) {
        whyf(why, whylen, "not an SPF record (no v=spf1)");
        return -1;
    }
    const char *p = txt + 6;
    size_t cap = 0;
    char term[512];
    while (*p) {
        while (*p == ' ')
            p++;
        size_t tl = strcspn(p, " ");
        if (tl == 0)
            break;
        if (tl >= sizeof(term)) {
            whyf(why, whylen, "term too long");
            goto fail;
        }
        memcpy(term, p, tl);
        term[tl] = '\0';
        p += tl;
        size_t nl;
        if (is_modifier(term, &nl)) {
            const char *val = term + nl + 1;
            char tmp[DNS_NAME_MAX + 1];
            bool redir = nl == 8 && strncasecmp(term, "redirect", 8) == 0;
            bool exp = nl == 3 && strncasecmp(term, "exp", 3) == 0;
            if ((redir && r->redirect) || (exp && r->exp)) {
                whyf(why, whylen, "more than one %s= modifier", redir ? "redirect" : "exp");
                goto fail;
            }
            if ((redir || exp) && (!*val || spf_macro_expand(val, NULL, "", tmp, sizeof(tmp), why, whylen) < 0)) {
                if (!*val)
                    whyf(why, whylen, "empty %s= modifier", redir ? "redirect" : "exp");
                goto fail;
            }
            if (redir)
                r->redirect = xstrdup(val);
            else if (exp)
                r->exp = xstrdup(val);
            continue;
        }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 8;
            r->t = xrealloc(r->t, cap * sizeof(*r->t));
        }
        if (term_parse(term, &r->t[r->n], why, whylen) < 0)
            goto fail;
        r->n++;
    }
    return 0;
fail:
    spf_record_free(r);
    return -1;
}

/* spf_record_free - free R's terms. */
void spf_record_free(struct spf_record *r)
{
    for (size_t i = 0; i < r->n; i++)
        xfree(r->t[i].spec);
    xfree(r->t);
    xfree(r->redirect);
    xfree(r->exp);
    memset(r, 0, sizeof(*r));
}

/* ---- check_host (section 4) ---- */

#define SPF_NEED ((enum spf_result)100)

struct spf_ctx {
    struct dns_cache *c;
    const struct spf_input *in;
    struct spf_outcome *out;
};

#define WHY(x, ...) whyf((x)->out->why, sizeof((x)->out->why), __VA_ARGS__)

static bool in_net(int family, const unsigned char *ip, const unsigned char *net, int bits)
{
    int bytes = bits / 8, rem = bits % 8;
    (void)family;
    if (memcmp(ip, net, (size_t)bytes) != 0)
        return false;
    return rem == 0 || ((ip[bytes] ^ net[bytes]) & (0xff << (8 - rem))) == 0;
}

/* does ANSWER (A or AAAA) hold the client's address within BITS */
static bool answer_has(const struct dns_answer *a, const struct spf_input *in, int bits)
{
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++)
        if (a->rr[i].family == in->family && in_net(in->family, in->ip, a->rr[i].addr, bits))
            return true;
    return false;
}

static enum spf_result lookup_fail(struct spf_ctx *x, const struct dns_answer *a, const char *name)
{
    WHY(x, "DNS lookup of %s %s failed: %s", dns_type_name(a->type), name, dns_status_text(a->status));
    return SPF_TEMPERROR;
}

/* a void lookup (no such name, no record); SPF_PERMERROR past the limit, else 0 */
static enum spf_result void_lookup(struct spf_ctx *x, const char *name)
{
    if (++x->out->voids > SPF_MAX_VOID) {
        WHY(x, "more than %d void DNS lookups (the last: %s)", SPF_MAX_VOID, name);
        return SPF_PERMERROR;
    }
    return SPF_NONE;
}

static enum spf_result check_host(struct spf_ctx *x, const char *domain, int depth);

/* 1: the mechanism matches, 0: it does not; or an spf_result + 10 to end the evaluation with */
#define END(r) ((int)(r) + 10)

static int mech_mx(struct spf_ctx *x, const char *target, int bits)
{
    int type = x->in->family == 4 ? DNS_T_A : DNS_T_AAAA;
    const struct dns_answer *a = dns_cache_get(x->c, target, DNS_T_MX);
    if (!a)
        return END(SPF_NEED);
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
        return END(lookup_fail(x, a, target));
    if (a->status != DNS_OK)
        return void_lookup(x, target) == SPF_PERMERROR ? END(SPF_PERMERROR) : 0;
    if (a->n > SPF_MAX_NAMES) {
        WHY(x, "mx:%s has %zu MX records (at most %d are allowed)", target, a->n, SPF_MAX_NAMES);
        return END(SPF_PERMERROR);
    }
    bool need = false, match = false;
    for (size_t i = 0; i < a->n; i++) {
        const struct dns_answer *h = dns_cache_get(x->c, a->rr[i].text, type);
        if (!h)
            need = true;
        else if (answer_has(h, x->in, bits))
            match = true;
    }
    return need ? END(SPF_NEED) : match;
}

static int mech_ptr(struct spf_ctx *x, const char *target)
{
    char rev[80];
    int type = x->in->family == 4 ? DNS_T_A : DNS_T_AAAA;
    dns_reverse_name(x->in->family, x->in->ip, rev);
    const struct dns_answer *a = dns_cache_get(x->c, rev, DNS_T_PTR);
    if (!a)
        return END(SPF_NEED);
    if (a->status == DNS_NXDOMAIN || a->status == DNS_NODATA)
        return void_lookup(x, rev) == SPF_PERMERROR ? END(SPF_PERMERROR) : 0;
    if (a->status != DNS_OK)
        return 0;
    bool need = false, match = false;
    size_t tl = strlen(target);
    for (size_t i = 0; i < a->n && i < SPF_MAX_NAMES; i++) {
        char name[DNS_NAME_MAX + 1];
        if (dns_name_norm(a->rr[i].text, name) < 0)
            continue;
        const struct dns_answer *h = dns_cache_get(x->c, name, type);
        size_t nl = strlen(name);
        if (!h)
            need = true;
        else if (answer_has(h, x->in, x->in->family == 4 ? 32 : 128) &&
                 (strcmp(name, target) == 0 || (nl > tl && name[nl - tl - 1] == '.' && strcmp(name + nl - tl, target) == 0)))
            match = true;
    }
    return need ? END(SPF_NEED) : match;
}

static int mech_match(struct spf_ctx *x, const struct spf_term *t, const char *domain, int depth)
{
    char target[DNS_NAME_MAX + 1], why[200];
    if (t->mech == SPF_IP4 || t->mech == SPF_IP6) {
        int fam = t->mech == SPF_IP4 ? 4 : 6;
        return fam == x->in->family && in_net(fam, x->in->ip, t->addr, fam == 4 ? t->cidr4 : t->cidr6);
    }
    if (t->mech == SPF_ALL)
        return 1;
    if (++x->out->lookups > SPF_MAX_LOOKUPS) {
        WHY(x, "more than %d DNS lookups (RFC 7208 4.6.4), the 11th in %s", SPF_MAX_LOOKUPS, domain);
        return END(SPF_PERMERROR);
    }
    if (spf_macro_expand(t->spec ? t->spec : domain, x->in, domain, target, sizeof(target), why, sizeof(why)) < 0 ||
        dns_name_norm(target, target) < 0) {
        WHY(x, "in %s: the domain of a term is not a valid name", domain);
        return END(SPF_PERMERROR);
    }
    const struct dns_answer *a;
    switch (t->mech) {
    case SPF_INCLUDE: {
        enum spf_result r = check_host(x, target, depth + 1);
        if (r == SPF_NEED || r == SPF_TEMPERROR || r == SPF_PERMERROR)
            return END(r);
        if (r == SPF_NONE) {
            WHY(x, "include:%s in %s: %s has no SPF record", target, domain, target);
            return END(SPF_PERMERROR);
        }
        if (r == SPF_PASS)
            return 1;
        x->out->why[0] = '\0';
        return 0;
    }
    case SPF_A:
        a = dns_cache_get(x->c, target, x->in->family == 4 ? DNS_T_A : DNS_T_AAAA);
        if (!a)
            return END(SPF_NEED);
        if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
            return END(lookup_fail(x, a, target));
        if (a->status != DNS_OK)
            return void_lookup(x, target) == SPF_PERMERROR ? END(SPF_PERMERROR) : 0;
        return answer_has(a, x->in, x->in->family == 4 ? t->cidr4 : t->cidr6);
    case SPF_MX:
        return mech_mx(x, target, x->in->family == 4 ? t->cidr4 : t->cidr6);
    case SPF_PTR:
        return mech_ptr(x, target);
    case SPF_EXISTS:
        a = dns_cache_get(x->c, target, DNS_T_A);
        if (!a)
            return END(SPF_NEED);
        if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
            return END(lookup_fail(x, a, target));
        if (a->status != DNS_OK)
            return void_lookup(x, target) == SPF_PERMERROR ? END(SPF_PERMERROR) : 0;
        return 1;
    default:
        return 0;
    }
}

static enum spf_result qual_result(char q)
{
    return q == '-' ? SPF_FAIL : q == '~' ? SPF_SOFTFAIL : q == '?' ? SPF_NEUTRAL : SPF_PASS;
}

/* T as written: qualifier (when not +), name, ":domain" or ":network", "/prefix" when not the whole address */
static void term_text(const struct spf_term *t, char *out, size_t len)
{
    char net[64] = "", q[2] = { t->qual, '\0' };
    size_t i;
    for (i = 0; mechs[i].mech != t->mech; i++)
        ;
    if (t->mech == SPF_IP4 || t->mech == SPF_IP6) {
        int bits = t->mech == SPF_IP4 ? t->cidr4 : t->cidr6;
        inet_ntop(t->mech == SPF_IP4 ? AF_INET : AF_INET6, t->addr, net, sizeof(net));
        if (bits != (t->mech == SPF_IP4 ? 32 : 128))
            snprintf(net + strlen(net), sizeof(net) - strlen(net), "/%d", bits);
    }
    snprintf(out, len, "%s%s%s%s", t->qual == '+' ? "" : q, mechs[i].name, t->spec || net[0] ? ":" : "",
             t->spec ? t->spec : net);
}

static enum spf_result check_host(struct spf_ctx *x, const char *domain, int depth)
{
    char d[DNS_NAME_MAX + 1], perr[200];
    if (dns_name_norm(domain, d) < 0 || !strchr(d, '.'))
        return SPF_NONE;
    const struct dns_answer *a = dns_cache_get(x->c, d, DNS_T_TXT);
    if (!a)
        return SPF_NEED;
    if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
        return lookup_fail(x, a, d);
    const char *txt = NULL;
    size_t nspf = 0;
    for (size_t i = 0; a->status == DNS_OK && i < a->n; i++)
        if (spf_is_record(a->rr[i].text))
            txt = a->rr[i].text, nspf++;
    if (nspf == 0) {
        WHY(x, "%s has no SPF record", d);
        return SPF_NONE;
    }
    if (nspf > 1) {
        WHY(x, "%s has %zu SPF records (one is allowed)", d, nspf);
        return SPF_PERMERROR;
    }
    struct spf_record r;
    if (spf_parse(txt, &r, perr, sizeof(perr)) < 0) {
        WHY(x, "the SPF record of %s: %s", d, perr);
        return SPF_PERMERROR;
    }
    enum spf_result res = SPF_NEUTRAL;
    bool decided = false;
    if (depth == 0)
        for (size_t i = 0; i < r.n; i++)
            if (r.t[i].mech == SPF_ALL) {
                x->out->all_qual = r.t[i].qual;
                x->out->plus_all = r.t[i].qual == '+';
                break;
            }
    for (size_t i = 0; i < r.n && !decided; i++) {
        int m = mech_match(x, &r.t[i], d, depth);
        if (m >= 10) {
            res = (enum spf_result)(m - 10), decided = true;
        } else if (m == 1) {
            char tt[300];
            term_text(&r.t[i], tt, sizeof(tt));
            res = qual_result(r.t[i].qual), decided = true;
            if (!x->out->why[0] || r.t[i].mech != SPF_INCLUDE)
                WHY(x, "%s in %s", tt, d);
        }
    }
    if (!decided && r.redirect) {
        char target[DNS_NAME_MAX + 1];
        if (++x->out->lookups > SPF_MAX_LOOKUPS) {
            WHY(x, "more than %d DNS lookups (RFC 7208 4.6.4), the 11th in %s", SPF_MAX_LOOKUPS, d);
            res = SPF_PERMERROR;
        } else if (spf_macro_expand(r.redirect, x->in, d, target, sizeof(target), perr, sizeof(perr)) < 0 ||
                   dns_name_norm(target, target) < 0) {
            WHY(x, "in %s: redirect= is not a valid name", d);
            res = SPF_PERMERROR;
        } else {
            res = check_host(x, target, depth + 1);
            if (res == SPF_NONE) {
                WHY(x, "redirect=%s in %s: %s has no SPF record", target, d, target);
                res = SPF_PERMERROR;
            }
        }
    } else if (!decided) {
        WHY(x, "no term of %s matched (neutral)", d);
    }
    spf_record_free(&r);
    return res;
}

/* spf_check - check_host(IN's address, DOMAIN, IN's sender) over CACHE: 0 with OUT, or 1 when answers are missing. */
int spf_check(struct dns_cache *cache, const struct spf_input *in, const char *domain, struct spf_outcome *out)
{
    memset(out, 0, sizeof(*out));
    struct spf_ctx x = { cache, in, out };
    enum spf_result r = check_host(&x, domain, 0);
    if (r == SPF_NEED)
        return 1;
    out->result = r;
    return 0;
}

/* spf_result_name - the RFC's name of R. */
const char *spf_result_name(enum spf_result r)
{
    static const char *const names[] = { "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror" };
    return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}
