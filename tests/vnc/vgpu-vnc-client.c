/*
 * vgpu-vnc-client: a small VNC viewer without a window, for tests and
 * benchmarks.  It takes lossless snapshots of the remote framebuffer,
 * reports which rectangles the server updates, and measures when a given
 * pixel changes.  See tests/vnc/README.md.
 *
 * The RFB protocol itself is done by libvncclient (libvncserver 0.9.14);
 * this file opens the connection (UNIX or TCP, retrying while the server
 * is not up yet), sets the pixel format and encodings, and keeps a
 * receive loop with timeouts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <time.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#define PROG "vgpu-vnc-client"

/* Exit codes */
#define EXIT_OK       0
#define EXIT_ERROR    1
#define EXIT_TIMEOUT  2

#define NS_PER_MS     1000000LL
#define STORM_PERIOD_NS (10 * NS_PER_MS)  /* --storm-ms: one message per */
#define RETRY_MS      50
#define N_OFFERED_MAX 16

typedef enum {
    MODE_SNAPSHOT,
    MODE_WATCH,
    MODE_PIXEL,
} Mode;

typedef struct Options {
    Mode mode;
    const char *server;
    const char *snapshot;       /* PPM file to write, or NULL */
    int pixel_x, pixel_y;
    int64_t timeout_ms;
    int64_t connect_timeout_ms;
    int64_t quiet_ms;
    uint32_t encodings[N_OFFERED_MAX];
    int n_encodings;
    char encodings_str[256];    /* for messages */
    bool shared;
    bool verbose;
    int resize_w, resize_h;     /* --resize: ask the server for this size */
    int64_t storm_ms;           /* --storm-ms: SetPixelFormat storm length */
} Options;

/* Everything the libvncclient callbacks update */
typedef struct State {
    int width, height;          /* current framebuffer size */
    bool have_fb;

    /* Coverage of the first frame: one byte per pixel until ready */
    uint8_t *cover;
    size_t covered;

    bool ready;
    int64_t last_rect_ns;       /* when the latest rectangle was complete */
    uint64_t post_ready_rects;
    uint64_t rects_at_update;   /* post_ready_rects at the last update line */
    int64_t last_update_ns;     /* last post-ready rectangle */

    bool pixel_known;
    bool pixel_hit;             /* this update wrote the --pixel pixel */
    uint32_t pixel_value;
    bool fatal;                 /* a callback failed (e.g. out of memory) */
    int64_t resized_ns;         /* when --resize was sent, 0 if not */

    /*
     * A later full frame, asked for after --resize or --storm-ms: it
     * proves the server has handled every message sent before.
     */
    uint8_t *recover;           /* one byte per pixel while pending */
    size_t recovered;
    bool recover_done;

    int64_t storm_end_ns;       /* --storm-ms: 0 before it starts */
    int64_t storm_next_ns;
    uint64_t storm_sent;
    bool storm_over;
} State;

static Options opts;
static State st;

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void lib_log_quiet(const char *fmt, ...)
{
}

static void lib_log_verbose(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": libvncclient: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static int ms_until(int64_t deadline_ns)
{
    int64_t left = deadline_ns - now_ns();

    if (left <= 0) {
        return 0;
    }
    left = (left + NS_PER_MS - 1) / NS_PER_MS;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static bool parse_ms(const char *s, int64_t *val)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000LL * 86400 * 365) {
        return false;
    }
    *val = v;
    return true;
}

static bool parse_xy(const char *s, int *x, int *y)
{
    char *end;
    long a, b;

    errno = 0;
    a = strtol(s, &end, 10);
    if (errno || end == s || *end != ',' || a < 0 || a > 65535) {
        return false;
    }
    s = end + 1;
    b = strtol(s, &end, 10);
    if (errno || end == s || *end || b < 0 || b > 65535) {
        return false;
    }
    *x = a;
    *y = b;
    return true;
}

/*
 * Only lossless encodings are offered, so that snapshots compare equal to
 * the guest's framebuffer (no Tight/JPEG, no ZYWRLE).
 */
static const struct {
    const char *name;
    uint32_t number;
} lossless_encodings[] = {
    { "raw", rfbEncodingRaw },
    { "copyrect", rfbEncodingCopyRect },
    { "hextile", rfbEncodingHextile },
    { "zlib", rfbEncodingZlib },
    { "zrle", rfbEncodingZRLE },
    { "trle", rfbEncodingTRLE },
    { "rre", rfbEncodingRRE },
    { "corre", rfbEncodingCoRRE },
};

#define N_LOSSLESS (sizeof(lossless_encodings) / sizeof(lossless_encodings[0]))

static bool parse_encodings(const char *s)
{
    char *copy = strdup(s), *save = NULL, *tok;
    bool ok = true;

    opts.n_encodings = 0;
    opts.encodings_str[0] = '\0';
    for (tok = strtok_r(copy, " ,", &save); tok;
         tok = strtok_r(NULL, " ,", &save)) {
        size_t i;

        for (i = 0; i < N_LOSSLESS; i++) {
            if (!strcmp(tok, lossless_encodings[i].name)) {
                break;
            }
        }
        if (i == N_LOSSLESS) {
            err("--encodings: '%s' is not one of the lossless encodings "
                "this tool offers: raw copyrect hextile zlib zrle trle rre "
                "corre", tok);
            ok = false;
            break;
        }
        /* one slot stays free for the DesktopSize pseudo-encoding */
        if (opts.n_encodings == N_OFFERED_MAX - 1) {
            err("--encodings: too many entries");
            ok = false;
            break;
        }
        opts.encodings[opts.n_encodings++] = lossless_encodings[i].number;
        if (opts.encodings_str[0]) {
            strcat(opts.encodings_str, " ");
        }
        strcat(opts.encodings_str, lossless_encodings[i].name);
    }
    if (ok && !opts.n_encodings) {
        err("--encodings: empty list");
        ok = false;
    }
    free(copy);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Connecting                                                           */

typedef struct Target {
    bool is_unix;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char host[256];
    char port[8];
} Target;

static bool parse_server(const char *s, Target *t)
{
    const char *colon, *host;
    size_t hlen;
    char *end;
    long port;

    memset(t, 0, sizeof(*t));
    if (!strncmp(s, "unix:", 5) || s[0] == '/' || !strncmp(s, "./", 2)) {
        const char *p = strncmp(s, "unix:", 5) ? s : s + 5;

        if (!*p) {
            err("empty UNIX socket path in '%s'", s);
            return false;
        }
        if (strlen(p) >= sizeof(t->path)) {
            err("UNIX socket path too long (max %zu bytes): %s",
                sizeof(t->path) - 1, p);
            return false;
        }
        t->is_unix = true;
        strcpy(t->path, p);
        return true;
    }

    colon = strrchr(s, ':');
    if (!colon) {
        err("SERVER must be unix:PATH or HOST:PORT, not '%s'", s);
        return false;
    }
    host = s;
    hlen = colon - s;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen == 0) {
        host = "localhost";
        hlen = strlen(host);
    }
    if (hlen >= sizeof(t->host)) {
        err("host name too long in '%s'", s);
        return false;
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || port < 1 || port > 65535) {
        err("bad TCP port in '%s' (HOST:PORT, PORT is a TCP port number, "
            "e.g. 5900 for display :0)", s);
        return false;
    }
    memcpy(t->host, host, hlen);
    t->host[hlen] = '\0';
    snprintf(t->port, sizeof(t->port), "%ld", port);
    return true;
}

/* Errors that mean "not up yet": keep trying until the connect timeout */
static bool retryable(int e)
{
    return e == ENOENT || e == ECONNREFUSED || e == EAGAIN ||
           e == ETIMEDOUT || e == EINTR || e == ECONNRESET ||
           e == ECONNABORTED;
}

/*
 * One non-blocking connect() with a timeout; returns a blocking fd or -1
 * with errno set.
 */
static int connect_addr(const struct sockaddr *sa, socklen_t salen,
                        int family, int timeout_ms)
{
    int fd, flags, soerr = 0;
    socklen_t len = sizeof(soerr);
    struct pollfd pfd;

    fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, sa, salen) < 0) {
        if (errno != EINPROGRESS) {
            goto fail;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, timeout_ms) <= 0) {
            errno = ETIMEDOUT;
            goto fail;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
            goto fail;
        }
        if (soerr) {
            errno = soerr;
            goto fail;
        }
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        goto fail;
    }
    return fd;

fail:
    soerr = errno;
    close(fd);
    errno = soerr;
    return -1;
}

static int connect_once(const Target *t, int timeout_ms, bool *fatal)
{
    *fatal = false;
    if (t->is_unix) {
        struct sockaddr_un sun = { .sun_family = AF_UNIX };

        strcpy(sun.sun_path, t->path);
        return connect_addr((struct sockaddr *)&sun, sizeof(sun), AF_UNIX,
                            timeout_ms);
    } else {
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC,
            .ai_socktype = SOCK_STREAM,
            .ai_flags = AI_ADDRCONFIG,
        };
        struct addrinfo *res, *ai;
        int rc, fd = -1, e = ECONNREFUSED;

        rc = getaddrinfo(t->host, t->port, &hints, &res);
        if (rc) {
            err("cannot resolve '%s': %s", t->host, gai_strerror(rc));
            *fatal = true;
            errno = EINVAL;
            return -1;
        }
        for (ai = res; ai; ai = ai->ai_next) {
            fd = connect_addr(ai->ai_addr, ai->ai_addrlen, ai->ai_family,
                              timeout_ms);
            if (fd >= 0) {
                int one = 1;

                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                break;
            }
            e = errno;
        }
        freeaddrinfo(res);
        if (fd < 0) {
            errno = e;
        }
        return fd;
    }
}

static int connect_server(const Target *t, int64_t deadline_ns)
{
    for (;;) {
        bool fatal;
        int fd = connect_once(t, ms_until(deadline_ns) ?: 1, &fatal);
        int e = errno;
        int wait;

        if (fd >= 0) {
            return fd;
        }
        if (fatal) {
            return -1;
        }
        wait = ms_until(deadline_ns);
        if (!retryable(e) || wait == 0) {
            if (t->is_unix) {
                err("cannot connect to unix:%s: %s%s", t->path, strerror(e),
                    retryable(e) ? " (gave up after --connect-timeout-ms)"
                                 : "");
            } else {
                err("cannot connect to %s port %s: %s%s", t->host, t->port,
                    strerror(e),
                    retryable(e) ? " (gave up after --connect-timeout-ms)"
                                 : "");
            }
            return -1;
        }
        poll(NULL, 0, wait < RETRY_MS ? wait : RETRY_MS);
    }
}

/* ------------------------------------------------------------------ */
/* Framebuffer and output                                               */

static bool write_ppm(const char *path, const uint8_t *fb, int w, int h)
{
    FILE *f = fopen(path, "wb");
    uint8_t *line;
    bool ok;
    int x, y;

    if (!f) {
        err("cannot create %s: %s", path, strerror(errno));
        return false;
    }
    line = malloc((size_t)w * 3 + 1);
    if (!line) {
        err("out of memory");
        fclose(f);
        return false;
    }
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    for (y = 0; y < h; y++) {
        const uint8_t *p = fb + (size_t)y * w * 4;

        /* memory order B, G, R, X -> R, G, B */
        for (x = 0; x < w; x++, p += 4) {
            line[x * 3 + 0] = p[2];
            line[x * 3 + 1] = p[1];
            line[x * 3 + 2] = p[0];
        }
        fwrite(line, 3, w, f);
    }
    free(line);
    ok = !ferror(f);
    if (fclose(f) != 0) {
        ok = false;
    }
    if (!ok) {
        err("error writing %s: %s", path, strerror(errno));
    }
    return ok;
}

static bool pixel_at(rfbClient *cl, int x, int y, uint32_t *val)
{
    const uint8_t *p;

    if (x >= cl->width || y >= cl->height || !cl->frameBuffer) {
        return false;
    }
    p = cl->frameBuffer + ((size_t)y * cl->width + x) * 4;
    *val = (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    return true;
}

/* ------------------------------------------------------------------ */
/* libvncclient callbacks                                               */

static rfbBool cb_malloc_fb(rfbClient *cl)
{
    size_t n = (size_t)cl->width * cl->height;
    bool resized = st.have_fb &&
                   (cl->width != st.width || cl->height != st.height);

    free(cl->frameBuffer);
    free(st.cover);
    cl->frameBuffer = calloc(n ? n : 1, 4);
    st.cover = st.ready ? NULL : calloc(n ? n : 1, 1);
    st.covered = 0;
    if (!cl->frameBuffer || (!st.ready && !st.cover)) {
        err("out of memory for a %dx%d framebuffer", cl->width, cl->height);
        st.fatal = true;
        return FALSE;
    }
    if (st.recover) {
        free(st.recover);
        st.recover = calloc(n ? n : 1, 1);
        st.recovered = 0;
        if (!st.recover) {
            err("out of memory for a %dx%d framebuffer", cl->width,
                cl->height);
            st.fatal = true;
            return FALSE;
        }
    }
    st.width = cl->width;
    st.height = cl->height;
    st.have_fb = true;
    if (resized && st.ready) {
        out("resize %dx%d\n", cl->width, cl->height);
    }
    return TRUE;
}

/* Mark the pixels of a rectangle in a one-byte-per-pixel coverage map */
static void cover_rect(rfbClient *cl, uint8_t *map, size_t *count,
                       int x, int y, int w, int h)
{
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > cl->width ? cl->width : x + w;
    int y1 = y + h > cl->height ? cl->height : y + h;
    int i, j;

    for (j = y0; j < y1; j++) {
        uint8_t *c = map + (size_t)j * cl->width;

        for (i = x0; i < x1; i++) {
            if (!c[i]) {
                c[i] = 1;
                (*count)++;
            }
        }
    }
}

static void cb_rect(rfbClient *cl, int x, int y, int w, int h)
{
    int64_t t = now_ns();

    st.last_rect_ns = t;
    if (!st.ready) {
        cover_rect(cl, st.cover, &st.covered, x, y, w, h);
        return;
    }
    if (st.recover) {
        cover_rect(cl, st.recover, &st.recovered, x, y, w, h);
    }
    st.post_ready_rects++;
    st.last_update_ns = t;
    if (opts.pixel_x >= x && opts.pixel_x < x + w &&
        opts.pixel_y >= y && opts.pixel_y < y + h) {
        st.pixel_hit = true;
    }
    if (opts.mode == MODE_WATCH) {
        out("rect %d %d %d %d\n", x, y, w, h);
    }
}

/*
 * SetDesktopSize with one screen.  Built here: libvncclient's
 * SendExtDesktopSize() sends nothing until it has parsed a screen layout
 * from the server, which it does not for QEMU's first reply.
 */
static bool send_desktop_size(rfbClient *cl, int w, int h)
{
    uint8_t msg[8 + 16] = { 0 };

    msg[0] = rfbSetDesktopSize;
    msg[2] = w >> 8;
    msg[3] = w;
    msg[4] = h >> 8;
    msg[5] = h;
    msg[6] = 1;                 /* one screen, id 0 at 0,0 */
    msg[8 + 8] = w >> 8;
    msg[8 + 9] = w;
    msg[8 + 10] = h >> 8;
    msg[8 + 11] = h;
    return WriteToRFBServer(cl, (char *)msg, sizeof(msg));
}

/* Ask for a full frame, and note when all of it has arrived. */
static bool start_recover(rfbClient *cl)
{
    size_t n = (size_t)cl->width * cl->height;

    free(st.recover);
    st.recover = calloc(n ? n : 1, 1);
    st.recovered = 0;
    st.recover_done = false;
    if (!st.recover) {
        err("out of memory");
        return false;
    }
    return SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
                                        FALSE);
}

/* SetPixelFormat with the format we use, then a full update request */
static bool send_storm_message(rfbClient *cl)
{
    rfbSetPixelFormatMsg spf;

    memset(&spf, 0, sizeof(spf));
    spf.type = rfbSetPixelFormat;
    spf.format = cl->format;
    spf.format.redMax = htons(cl->format.redMax);
    spf.format.greenMax = htons(cl->format.greenMax);
    spf.format.blueMax = htons(cl->format.blueMax);
    return WriteToRFBServer(cl, (char *)&spf, sz_rfbSetPixelFormatMsg) &&
           SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
                                        FALSE);
}

static void cb_finished(rfbClient *cl)
{
    uint32_t v;

    if (!st.ready) {
        if (st.covered < (size_t)cl->width * cl->height) {
            return;
        }
        st.ready = true;
        free(st.cover);
        st.cover = NULL;
        if (opts.resize_w) {
            /* as a viewer whose window has that size would */
            if (!send_desktop_size(cl, opts.resize_w, opts.resize_h) ||
                !start_recover(cl)) {
                err("cannot send SetDesktopSize");
                st.fatal = true;
                return;
            }
            st.resized_ns = now_ns();
        }
        if (opts.storm_ms) {
            st.storm_end_ns = now_ns() + opts.storm_ms * NS_PER_MS;
            st.storm_next_ns = now_ns();
        }
        if (opts.mode == MODE_SNAPSHOT) {
            return;
        }
        out("ready %dx%d\n", cl->width, cl->height);
        if (opts.mode == MODE_PIXEL) {
            if (!pixel_at(cl, opts.pixel_x, opts.pixel_y, &v)) {
                err("--pixel %d,%d is outside the %dx%d framebuffer",
                    opts.pixel_x, opts.pixel_y, cl->width, cl->height);
                st.fatal = true;
                return;
            }
            st.pixel_known = true;
            st.pixel_value = v;
            out("initial 0x%06x\n", v);
        }
        return;
    }

    /* one line per FramebufferUpdate, so that frames can be counted */
    if (opts.mode == MODE_WATCH && st.post_ready_rects != st.rects_at_update) {
        st.rects_at_update = st.post_ready_rects;
        out("update %lld\n", (long long)st.last_rect_ns);
    }

    if (st.recover && st.recovered >= (size_t)cl->width * cl->height) {
        free(st.recover);
        st.recover = NULL;
        st.recover_done = true;
    }

    /*
     * Only look at the pixel when this update wrote it: after a resize the
     * new framebuffer is blank until the server's full update arrives.
     */
    if (opts.mode == MODE_PIXEL && st.pixel_hit &&
        pixel_at(cl, opts.pixel_x, opts.pixel_y, &v) &&
        (!st.pixel_known || v != st.pixel_value)) {
        st.pixel_known = true;
        st.pixel_value = v;
        out("pixel %lld 0x%06x\n", (long long)st.last_rect_ns, v);
    }
    st.pixel_hit = false;
}

static char *cb_password(rfbClient *cl)
{
    err("the server asks for a VNC password; this tool supports servers "
        "without authentication only");
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Overall timeout guard                                                */

/*
 * The receive loop below honours --timeout-ms itself, but libvncclient
 * reads a message with blocking reads: if the server stalls during the
 * handshake or in the middle of a message, this alarm (--timeout-ms plus
 * GUARD_MS) ends the process.
 */
#define GUARD_MS 200

static volatile sig_atomic_t in_handshake = 1;

static void on_alarm(int sig)
{
    static const char hs[] =
        PROG ": timed out: the server did not complete the VNC handshake\n";
    static const char msg[] =
        PROG ": timed out: the server stopped in the middle of a message\n";
    ssize_t r;

    if (in_handshake) {
        r = write(STDERR_FILENO, hs, sizeof(hs) - 1);
    } else {
        r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
    }
    (void)r;
    _exit(EXIT_TIMEOUT);
}

static void arm_guard(int64_t deadline_ns)
{
    struct itimerval it = { 0 };
    int64_t left = deadline_ns - now_ns() + GUARD_MS * NS_PER_MS;

    if (left < NS_PER_MS) {
        left = NS_PER_MS;
    }
    it.it_value.tv_sec = left / 1000000000LL;
    it.it_value.tv_usec = (left % 1000000000LL) / 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_guard(void)
{
    struct itimerval it = { 0 };

    setitimer(ITIMER_REAL, &it, NULL);
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
"Usage: " PROG " [options] SERVER\n"
"\n"
"SERVER is unix:PATH (or an absolute path) for a UNIX socket, or HOST:PORT\n"
"with a TCP port number (5900 + display), e.g. 127.0.0.1:5901, [::1]:5900.\n"
"\n"
"Modes (one of):\n"
"  --snapshot FILE.ppm    wait for a complete frame, write it as binary PPM,\n"
"                         print 'size WxH', exit\n"
"  --watch                print 'ready WxH' after the first complete frame,\n"
"                         then 'rect X Y W H' per updated rectangle,\n"
"                         'update T_NS' after each update message and\n"
"                         'resize WxH' on size changes; ends with 'done'\n"
"                         (with --snapshot: also writes the last frame)\n"
"  --pixel X,Y            after 'ready WxH' and 'initial 0xRRGGBB', print\n"
"                         'pixel T_NS 0xRRGGBB' whenever pixel X,Y changes\n"
"                         (T_NS: CLOCK_MONOTONIC ns when the update carrying\n"
"                         it was received); runs until --timeout-ms\n"
"Options:\n"
"  --timeout-ms N         overall time limit (default 20000)\n"
"  --connect-timeout-ms N keep retrying the connection this long (5000)\n"
"  --quiet-ms N           --watch: stop after N ms without updates once an\n"
"                         update arrived after 'ready' (default 1000)\n"
"  --encodings LIST       lossless encodings to offer, in order of\n"
"                         preference (default 'raw'): raw copyrect hextile\n"
"                         zlib zrle trle rre corre\n"
"  --exclusive            ask for exclusive access (non-shared); the server\n"
"                         may then disconnect other viewers\n"
"  --resize WxH           after the first complete frame, ask the server\n"
"                         for a WxH desktop (SetDesktopSize), as a viewer\n"
"                         window of that size would; --snapshot then waits\n"
"                         --quiet-ms and for a full frame asked for after\n"
"                         it, before it ends\n"
"  --storm-ms N           --snapshot: after the first complete frame, send\n"
"                         SetPixelFormat and a full update request every\n"
"                         10 ms for N ms, then wait for a full frame; prints\n"
"                         'storm COUNT' (messages sent)\n"
"  -v, --verbose          log the protocol (libvncclient messages)\n"
"  -h, --help             this text\n"
"\n"
"Exit status: 0 success, 1 error (e.g. cannot connect), 2 timeout (no\n"
"complete frame; --watch: no update after 'ready').\n");
}

enum {
    OPT_SNAPSHOT = 256,
    OPT_WATCH,
    OPT_PIXEL,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_QUIET,
    OPT_ENCODINGS,
    OPT_EXCLUSIVE,
    OPT_RESIZE,
    OPT_STORM,
};

static void parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
        { "watch", no_argument, NULL, OPT_WATCH },
        { "pixel", required_argument, NULL, OPT_PIXEL },
        { "timeout-ms", required_argument, NULL, OPT_TIMEOUT },
        { "connect-timeout-ms", required_argument, NULL,
          OPT_CONNECT_TIMEOUT },
        { "quiet-ms", required_argument, NULL, OPT_QUIET },
        { "encodings", required_argument, NULL, OPT_ENCODINGS },
        { "exclusive", no_argument, NULL, OPT_EXCLUSIVE },
        { "resize", required_argument, NULL, OPT_RESIZE },
        { "storm-ms", required_argument, NULL, OPT_STORM },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool watch = false, pixel = false;
    int c;

    opts.timeout_ms = 20000;
    opts.connect_timeout_ms = 5000;
    opts.quiet_ms = 1000;
    opts.shared = true;
    parse_encodings("raw");

    while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SNAPSHOT:
            opts.snapshot = optarg;
            break;
        case OPT_WATCH:
            watch = true;
            break;
        case OPT_RESIZE:
            if (sscanf(optarg, "%dx%d", &opts.resize_w, &opts.resize_h) != 2 ||
                opts.resize_w <= 0 || opts.resize_h <= 0 ||
                opts.resize_w > 65535 || opts.resize_h > 65535) {
                err("--resize wants WxH, not '%s'", optarg);
                exit(EXIT_ERROR);
            }
            break;
        case OPT_PIXEL:
            if (!parse_xy(optarg, &opts.pixel_x, &opts.pixel_y)) {
                err("--pixel wants X,Y (non-negative integers), not '%s'",
                    optarg);
                exit(EXIT_ERROR);
            }
            pixel = true;
            break;
        case OPT_TIMEOUT:
        case OPT_CONNECT_TIMEOUT:
        case OPT_QUIET:
        case OPT_STORM: {
            int64_t *dst = c == OPT_TIMEOUT ? &opts.timeout_ms :
                           c == OPT_QUIET ? &opts.quiet_ms :
                           c == OPT_STORM ? &opts.storm_ms :
                           &opts.connect_timeout_ms;

            if (!parse_ms(optarg, dst)) {
                err("bad number of milliseconds: '%s'", optarg);
                exit(EXIT_ERROR);
            }
            break;
        }
        case OPT_ENCODINGS:
            if (!parse_encodings(optarg)) {
                exit(EXIT_ERROR);
            }
            break;
        case OPT_EXCLUSIVE:
            opts.shared = false;
            break;
        case 'v':
            opts.verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        default:
            usage(stderr);
            exit(EXIT_ERROR);
        }
    }
    if (optind != argc - 1) {
        err(optind >= argc ? "missing SERVER" : "too many arguments");
        usage(stderr);
        exit(EXIT_ERROR);
    }
    opts.server = argv[optind];
    if (watch && pixel) {
        err("--watch and --pixel cannot be combined");
        exit(EXIT_ERROR);
    }
    if (pixel) {
        opts.mode = MODE_PIXEL;
    } else if (watch) {
        opts.mode = MODE_WATCH;
    } else if (opts.snapshot) {
        opts.mode = MODE_SNAPSHOT;
    } else {
        err("nothing to do: give --snapshot FILE, --watch or --pixel X,Y");
        usage(stderr);
        exit(EXIT_ERROR);
    }
}

/*
 * SetPixelFormat and SetEncodings, written here rather than with
 * libvncclient's SetFormatAndEncodings(): that one always offers more
 * pseudo-encodings (e.g. QEMU extended key events, whose acknowledgement
 * arrives as a full-screen "rectangle" without pixels, which libvncclient
 * 0.9.14 reports like a real update).  We offer exactly the chosen
 * lossless encodings plus DesktopSize, so every rectangle reported to
 * GotFrameBufferUpdate carries pixels.
 */
static bool send_format_and_encodings(rfbClient *cl)
{
    rfbSetPixelFormatMsg spf;
    char buf[sz_rfbSetEncodingsMsg + 4 * N_OFFERED_MAX];
    rfbSetEncodingsMsg *se = (rfbSetEncodingsMsg *)buf;
    uint32_t enc;
    int i, n = 0;

    memset(&spf, 0, sizeof(spf));
    spf.type = rfbSetPixelFormat;
    spf.format = cl->format;
    spf.format.redMax = htons(cl->format.redMax);
    spf.format.greenMax = htons(cl->format.greenMax);
    spf.format.blueMax = htons(cl->format.blueMax);
    if (!WriteToRFBServer(cl, (char *)&spf, sz_rfbSetPixelFormatMsg)) {
        return false;
    }

    for (i = 0; i < opts.n_encodings; i++) {
        enc = htonl(opts.encodings[i]);
        memcpy(buf + sz_rfbSetEncodingsMsg + 4 * n++, &enc, 4);
    }
    enc = htonl(rfbEncodingNewFBSize);
    memcpy(buf + sz_rfbSetEncodingsMsg + 4 * n++, &enc, 4);
    if (opts.resize_w) {
        /* SetDesktopSize needs the extended desktop size extension */
        enc = htonl(rfbEncodingExtDesktopSize);
        memcpy(buf + sz_rfbSetEncodingsMsg + 4 * n++, &enc, 4);
    }
    se->type = rfbSetEncodings;
    se->pad = 0;
    se->nEncodings = htons(n);
    return WriteToRFBServer(cl, buf, sz_rfbSetEncodingsMsg + 4 * n);
}

/* Set up libvncclient on an already connected socket */
static rfbClient *start_rfb(int fd)
{
    rfbClient *cl = rfbGetClient(8, 3, 4);

    if (!cl) {
        err("out of memory");
        close(fd);
        return NULL;
    }

    /* 32 bpp true colour, little endian, pixel = 0x00RRGGBB (B,G,R,X) */
    cl->format.bitsPerPixel = 32;
    cl->format.depth = 24;
    cl->format.bigEndian = FALSE;
    cl->format.trueColour = TRUE;
    cl->format.redMax = 255;
    cl->format.greenMax = 255;
    cl->format.blueMax = 255;
    cl->format.redShift = 16;
    cl->format.greenShift = 8;
    cl->format.blueShift = 0;

    cl->appData.shareDesktop = opts.shared;
    cl->appData.useRemoteCursor = FALSE;    /* no cursor pseudo-encodings */
    cl->appData.enableJPEG = FALSE;
    cl->appData.qualityLevel = -1;
    cl->canHandleNewFBSize = TRUE;

    cl->MallocFrameBuffer = cb_malloc_fb;
    cl->GotFrameBufferUpdate = cb_rect;
    cl->FinishedFrameBufferUpdate = cb_finished;
    cl->GetPassword = cb_password;

    free(cl->serverHost);
    cl->serverHost = strdup(opts.server);
    cl->sock = fd;

    /*
     * rfbInitClient() would connect by itself (UNIX sockets only when the
     * path exists at that moment, no retrying); with our own socket we do
     * its remaining steps here.
     */
    if (!InitialiseRFBConnection(cl)) {
        err("VNC handshake with %s failed (not a VNC server, or it wants "
            "authentication/encryption this tool does not do)", opts.server);
        goto fail;
    }
    cl->width = cl->si.framebufferWidth;
    cl->height = cl->si.framebufferHeight;
    if (opts.verbose) {
        err("connected: RFB %d.%d, desktop \"%s\", %dx%d, encodings \"%s\", "
            "%s", cl->major, cl->minor,
            cl->desktopName ? cl->desktopName : "", cl->width, cl->height,
            opts.encodings_str, opts.shared ? "shared" : "exclusive");
    }
    if (!cl->MallocFrameBuffer(cl)) {
        goto fail;
    }
    if (!send_format_and_encodings(cl)) {
        err("cannot send pixel format and encodings to the server");
        goto fail;
    }
    cl->updateRect.x = 0;
    cl->updateRect.y = 0;
    cl->updateRect.w = cl->width;
    cl->updateRect.h = cl->height;
    /*
     * A full (non-incremental) request; afterwards libvncclient asks for an
     * incremental update of the whole screen after every update it handles,
     * so one request is always outstanding, as with an interactive viewer.
     */
    if (!SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height,
                                      FALSE)) {
        err("cannot send the first update request");
        goto fail;
    }
    return cl;

fail:
    free(cl->frameBuffer);
    cl->frameBuffer = NULL;
    rfbClientCleanup(cl);
    return NULL;
}

int main(int argc, char **argv)
{
    int64_t start = now_ns(), deadline, connect_deadline;
    Target target;
    rfbClient *cl;
    int fd, ret = EXIT_OK;
    bool timed_out = false;

    parse_args(argc, argv);
    if (!parse_server(opts.server, &target)) {
        return EXIT_ERROR;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    rfbClientLog = opts.verbose ? lib_log_verbose : lib_log_quiet;
    rfbClientErr = lib_log_verbose;

    deadline = start + opts.timeout_ms * NS_PER_MS;
    connect_deadline = start + opts.connect_timeout_ms * NS_PER_MS;
    if (connect_deadline > deadline) {
        connect_deadline = deadline;
    }
    arm_guard(deadline);

    fd = connect_server(&target, connect_deadline);
    if (fd < 0) {
        return EXIT_ERROR;
    }
    cl = start_rfb(fd);
    if (!cl) {
        return EXIT_ERROR;
    }
    in_handshake = 0;

    /* Receive loop */
    for (;;) {
        int64_t t = now_ns();
        int64_t wake = deadline;

        if (st.fatal) {
            ret = EXIT_ERROR;
            break;
        }
        if (st.storm_end_ns && !st.storm_over) {
            if (t >= st.storm_end_ns) {
                st.storm_over = true;
                if (!start_recover(cl)) {
                    err("cannot send an update request");
                    ret = EXIT_ERROR;
                    break;
                }
            } else {
                if (t >= st.storm_next_ns) {
                    if (!send_storm_message(cl)) {
                        err("cannot send SetPixelFormat");
                        ret = EXIT_ERROR;
                        break;
                    }
                    st.storm_sent++;
                    st.storm_next_ns = t + STORM_PERIOD_NS;
                }
                if (st.storm_next_ns < wake) {
                    wake = st.storm_next_ns;
                }
            }
        }
        if (opts.mode == MODE_SNAPSHOT && st.ready &&
            (!st.resized_ns ||
             (st.recover_done &&
              t >= st.resized_ns + opts.quiet_ms * NS_PER_MS)) &&
            (!opts.storm_ms || (st.storm_over && st.recover_done))) {
            break;
        }
        if (t >= deadline) {
            timed_out = true;
            break;
        }
        if (opts.mode == MODE_WATCH && st.post_ready_rects) {
            int64_t quiet_end = st.last_update_ns + opts.quiet_ms * NS_PER_MS;

            if (t >= quiet_end) {
                break;
            }
            if (quiet_end < wake) {
                wake = quiet_end;
            }
        }

        /* libvncclient may hold the start of the next message already */
        if (cl->buffered == 0) {
            struct pollfd pfd = { .fd = cl->sock, .events = POLLIN };
            int r = poll(&pfd, 1, ms_until(wake));

            if (r < 0) {
                if (errno == EINTR) {
                    continue;
                }
                err("poll: %s", strerror(errno));
                ret = EXIT_ERROR;
                break;
            }
            if (r == 0) {
                continue;
            }
        }
        if (!HandleRFBServerMessage(cl)) {
            if (!st.fatal) {
                err("connection to %s lost (server closed it or sent "
                    "something this client cannot decode)", opts.server);
            }
            ret = EXIT_ERROR;
            break;
        }
    }
    disarm_guard();

    if (ret == EXIT_OK) {
        if (!st.ready) {
            err("timed out after %lld ms before a complete frame arrived",
                (long long)opts.timeout_ms);
            ret = EXIT_TIMEOUT;
        } else if (opts.mode == MODE_SNAPSHOT) {
            if (opts.storm_ms) {
                out("storm %llu\n", (unsigned long long)st.storm_sent);
            }
            if (write_ppm(opts.snapshot, cl->frameBuffer, cl->width,
                          cl->height)) {
                out("size %dx%d\n", cl->width, cl->height);
            } else {
                ret = EXIT_ERROR;
            }
        } else {
            /* the file is complete before 'done' is printed */
            if (opts.snapshot &&
                !write_ppm(opts.snapshot, cl->frameBuffer, cl->width,
                           cl->height)) {
                ret = EXIT_ERROR;
            }
            if (opts.mode == MODE_WATCH) {
                out("done\n");
                if (ret == EXIT_OK && timed_out && !st.post_ready_rects) {
                    ret = EXIT_TIMEOUT;
                }
            }
        }
    }

    free(cl->frameBuffer);
    cl->frameBuffer = NULL;
    free(st.cover);
    free(st.recover);
    rfbClientCleanup(cl);
    return ret;
}
