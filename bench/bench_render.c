/*
 * bench_render - render, build and DKIM-sign N personalised messages on one thread, in the
 * sender's batches of eight (compose_batch: their body hashes taken together).
 *
 *   bench_render N rsa|ed25519|both [track]
 *
 * The campaign is a ~10 KB HTML newsletter (with a text part derived from it)
 * inside the default layout, personalised per recipient (name, attributes,
 * unsubscribe link). POSTINO_SHA256=one in the environment hashes the bodies
 * one by one (sha256_many.h). Prints one line: "ALG N messages in S CPU s: R messages/s,
 * B bytes/message". Time is the process's CPU time, as `openssl speed` counts
 * its own (user time), so the ratio holds on a shared, loaded machine.
 * With "track" the campaign tracks opens and clicks (its links rewritten
 * once, as a sender prepares it), to see what tracking costs per message. The key is generated in memory; no database is used, so
 * this measures the CPU path of the sender's worker threads alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/mail/compose.h"
#include "engine/util/alloc.h"
#include "engine/util/embedded.h"
#include "engine/util/log.h"

static struct dkim_signer *signer(enum dkim_alg alg, const char *sel)
{
    char *pem, *pub;
    const char *why;
    char *err;
    if (dkim_key_generate(alg, 2048, &pem, &pub, &why) < 0)
        log_fatal("keygen: %s", why);
    struct dkim_key *k = dkim_key_load(pem, strlen(pem), sel, "example.com", &err);
    if (!k)
        log_fatal("%s", err);
    dkim_secret_free(pem);
    xfree(pub);
    return dkim_signer_new("example.com", sel, k);
}

static char *campaign_html(void)
{
    struct buf b = BUF_INIT;
    buf_appends(&b, "<h1>Hello {{ name }}, the news for {{ attribs.city | default \"you\" }}</h1>\n");
    for (int i = 0; buf_cstr(&b), b.len < 9000; i++)
        buf_appendf(&b,
                    "<p>Paragraph %d: our caff\xc3\xa8 in {{ attribs.city | default \"town\" }} has new blends "
                    "this month, and <a href=\"https://example.com/blend/%d\">the story behind them</a>. "
                    "{{#if attribs.plan == \"pro\"}}Pro members taste them first.{{else}}Join the club.{{/if}}</p>\n",
                    i, i);
    return buf_detach(&b, NULL);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    const char *mode = argc > 2 ? argv[2] : "rsa";
    struct dkim_signer *signers[2];
    size_t nsigners = 0;
    if (strcmp(mode, "rsa") == 0 || strcmp(mode, "both") == 0)
        signers[nsigners++] = signer(DKIM_RSA_SHA256, "r1");
    if (strcmp(mode, "ed25519") == 0 || strcmp(mode, "both") == 0)
        signers[nsigners++] = signer(DKIM_ED25519_SHA256, "e1");
    const struct embedded_file *layout = embedded_find("templates/newsletter.html");
    char *body = campaign_html(), err[TMPL_ERR_MAX];
    struct tmpl *html = tmpl_compile_wrap((const char *)layout->data, layout->len, body, strlen(body), err, sizeof(err));
    struct tmpl *subject = tmpl_compile("News for {{ name }}", 19, err, sizeof(err));
    /* the text part as a campaign without one gets it: derived once from the HTML sources */
    struct buf tbody = BUF_INIT, tlayout = BUF_INIT;
    compose_text_source(&tbody, body, strlen(body));
    compose_text_source(&tlayout, (const char *)layout->data, layout->len);
    struct tmpl *text = tmpl_compile_wrap(tlayout.data, tlayout.len, tbody.data, tbody.len, err, sizeof(err));
    if (!html || !subject || !text)
        log_fatal("compile: %s", err);
    unsigned char key[TOKEN_KEY_LEN] = { 1 };
    struct compose_campaign c = {
        .id = 7, .name = "November", .subject = subject, .html = html, .text = text, .from_name = "Caff\xc3\xa8 Team",
        .from_addr = "news@example.com", .public_url = "https://news.example.com", .token_key = key,
        .signers = signers, .nsigners = nsigners,
    };
    char **urls = NULL;
    size_t nurls = 0;
    uint64_t *link_ids = NULL;
    if (argc > 3 && strcmp(argv[3], "track") == 0) {
        struct tmpl *tracked = compose_track_links(html, c.public_url, &urls, &nurls);
        tmpl_free(html);
        c.html = html = tracked;
        link_ids = xcalloc(nurls + 1, sizeof(*link_ids));
        for (size_t i = 0; i < nurls; i++)
            link_ids[i] = 1000 + i;
        c.link_ids = link_ids;
        c.track_opens = true;
    }
    compose_choose_encodings(&c);
    static const char *const cities[] = { "Roma", "Milano", "Torino", "Napoli" };
    json_t *attribs[4];
    for (int i = 0; i < 4; i++)
        attribs[i] = json_pack("{s:s,s:s}", "city", cities[i], "plan", i % 2 ? "pro" : "free");
    struct compose_scratch s = COMPOSE_SCRATCH_INIT;
    enum { BATCH = 8 }; /* the sender's batches (render.c) */
    struct buf out[BATCH];
    struct buf *outp[BATCH];
    char email[BATCH][64], name[BATCH][64], delivery[BATCH][32];
    struct compose_recipient r[BATCH];
    const struct compose_recipient *rp[BATCH];
    const struct compose_campaign *cp[BATCH];
    int rc[BATCH];
    const char *why[BATCH];
    size_t bytes = 0;
    for (int k = 0; k < BATCH; k++) {
        out[k] = (struct buf)BUF_INIT;
        outp[k] = &out[k];
        rp[k] = &r[k];
        cp[k] = &c;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (long i = 0; i < n; i += BATCH) {
        int m = n - i < BATCH ? (int)(n - i) : BATCH;
        for (int k = 0; k < m; k++) {
            snprintf(email[k], sizeof(email[k]), "user%ld@example.org", i + k);
            snprintf(name[k], sizeof(name[k]), "User %ld", i + k);
            snprintf(delivery[k], sizeof(delivery[k]), "%ld", i + k);
            r[k] = (struct compose_recipient){ .subscriber_id = (uint64_t)(i + k), .email = email[k],
                                               .name = name[k], .attribs = attribs[(i + k) % 4], .list_id = 1,
                                               .list_name = "Newsletter", .delivery_id = delivery[k] };
            buf_reset(&out[k]);
        }
        compose_batch(cp, rp, (size_t)m, 1795852800 + i, &s, outp, rc, why);
        for (int k = 0; k < m; k++) {
            if (rc[k] < 0)
                log_fatal("compose: %s", why[k]);
            bytes += out[k].len;
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    unsigned long timed;
    unsigned long long ns;
    dkim_sign_cpu(&timed, &ns);
    printf("%s %ld messages in %.2f CPU s: %.0f messages/s, %zu bytes/message; a signature's private-key operation"
           " %.1f us (1 in %d timed)\n", mode, n, secs, (double)n / secs, bytes / (size_t)(n ? n : 1),
           timed ? (double)ns / (double)timed / 1000.0 : 0.0, DKIM_SIGN_SAMPLE);
    for (int i = 0; i < 4; i++)
        json_decref(attribs[i]);
    for (size_t i = 0; i < nsigners; i++)
        dkim_signer_free(signers[i]);
    compose_links_free(urls, nurls);
    xfree(link_ids);
    tmpl_free(html);
    tmpl_free(subject);
    tmpl_free(text);
    buf_free(&tbody);
    buf_free(&tlayout);
    xfree(body);
    for (int k = 0; k < BATCH; k++)
        buf_free(&out[k]);
    compose_scratch_free(&s);
    dkim_thread_cleanup();
    return 0;
}
