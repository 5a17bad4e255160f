/* The cell fast path's hottest tokens in C (engine/cellpath.py says what each one does).

A full-screen redraw is some fifty thousand tokens per megabyte: SGRs, cursor positions, short
runs of text, CR and LF. Matching one with a regular expression and branching on it in Python
costs about as much as tmux spends on a whole token, so this loop takes those tokens with the
screen's state in C locals, calls the screen's own methods for the rarer ones, and stops at the
first token it does not take: the parser's general path takes that one. It leaves the screen
as the general path does; the Python loop (`cellpath.draw_python`, used where this was not
built) is held to the same, and tests run both against the general path.

run(buf, i, rows, x, y, glyphs, columns, lines, bottom, dirty, put_run, drawn, screen, zwj,
    top, alternate, autowrap, mode) -> (pos, x, y, glyphs, drawn, error, refused)

`rows` is the screen's row table (a defaultdict: `rows[y]` makes a missing row), `glyphs`
the cells of the current style (a dict subclass: a missing character is made by
`glyphs[ch]`), `top` and `bottom` the scroll region's rows (bottom -1 under LNM: LF is not
taken), `dirty` the screen's set of changed rows, `put_run` the screen's `_put_run` (text
over half of a wide character), `drawn` what REP would repeat, `zwj` whether a ZERO WIDTH
JOINER was drawn (text may join its cell), `alternate` whether the alternate screen is shown
(a scroll keeps no history there), `autowrap` whether DECAWM is set, `mode` the screen's
set of modes (synchronized output is set there). `setup()` gives the Python parts it calls.

`pos` is where the first token not taken starts; `error` is None, or an exception raised by
Python code called from here (the tokens before it are done); buf[pos:refused] is text this
loop does not draw (see the end of run()).
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *s_after_sgr, *s_hist, *s_wrapped, *s_attrs, *s_default, *s_empty;
static PyObject *s_gap, *s_styles, *s_left, *s_forget, *s_rest, *s_synchronized_since;
static PyObject *one_char[128]; /* the one-character strings of ASCII */
/* engine.width._BMP, given by setup(): a byte per code point below U+10000, its width + 1 */
static PyObject *widths;
/* cells a character takes (1, 2; 0 joins the previous cell, -1 is dropped), -2 past the BMP */
#define WIDTH(ch) \
    ((ch) < 0x10000 ? (int)((const unsigned char *)PyBytes_AS_STRING(widths))[ch] - 1 : -2)
#define NARROW(ch) (WIDTH(ch) == 1)

/* The character at `index` as a string (a new reference). */
static PyObject *
one_char_at(int kind, const void *data, Py_ssize_t index)
{
    Py_UCS4 ch = PyUnicode_READ(kind, data, index);
    if (ch < 128) {
        Py_INCREF(one_char[ch]);
        return one_char[ch];
    }
    return PyUnicode_FromOrdinal(ch);
}

#define READ(p) PyUnicode_READ(kind, data, (p))

/* tuple.__new__(type, (ch, *rest)), as tuple's own subtype constructor does it: a cell of
the style whose fields after `data` are `rest`. */
static PyObject *
make_cell(PyTypeObject *type, PyObject *rest, PyObject *ch)
{
    Py_ssize_t n = PyTuple_GET_SIZE(rest);
    PyObject *cell = PyType_IsSubtype(type, &PyTuple_Type) ? type->tp_alloc(type, n + 1) : NULL;
    if (cell == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "a style is not a tuple");
        return NULL;
    }
    Py_INCREF(ch);
    PyTuple_SET_ITEM(cell, 0, ch);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(rest, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(cell, i + 1, item);
    }
    /* Its fields are strings, numbers and flags: it can be in no cycle, so the collector
    need not look at it (what it does itself to such tuples, later, one pass at a time). */
    if (PyObject_GC_IsTracked(cell))
        PyObject_GC_UnTrack(cell);
    return cell;
}

/* A cell for `ch` in the style of `glyphs`, kept there, as Glyphs.__missing__ makes it (within
the screen's budget: Styles.left, Styles.forget), without a Python call. */
static PyObject *
new_glyph(PyObject *glyphs, PyObject *ch)
{
    PyObject *ref = PyObject_GetAttr(glyphs, s_styles);
    if (ref == NULL)
        return NULL;
    PyObject *styles = PyObject_CallNoArgs(ref);
    Py_DECREF(ref);
    if (styles == NULL)
        return NULL;
    if (styles != Py_None) {
        PyObject *left = PyObject_GetAttr(styles, s_left);
        Py_ssize_t count = left == NULL ? -1 : PyLong_AsSsize_t(left);
        Py_XDECREF(left);
        if (count == -1 && PyErr_Occurred()) {
            Py_DECREF(styles);
            return NULL;
        }
        PyObject *now = PyLong_FromSsize_t(count - 1);
        int rc = now == NULL ? -1 : PyObject_SetAttr(styles, s_left, now);
        Py_XDECREF(now);
        if (rc == 0 && count - 1 < 0) {
            PyObject *done = PyObject_CallMethodNoArgs(styles, s_forget);
            rc = done == NULL ? -1 : 0;
            Py_XDECREF(done);
        }
        if (rc < 0) {
            Py_DECREF(styles);
            return NULL;
        }
    }
    Py_DECREF(styles);
    PyObject *attrs = PyObject_GetAttr(glyphs, s_attrs);
    if (attrs == NULL)
        return NULL;
    PyObject *rest = PyObject_GetAttr(glyphs, s_rest);
    if (rest == NULL || !PyTuple_Check(rest)) {
        if (rest != NULL)
            PyErr_SetString(PyExc_TypeError, "Glyphs._rest is not a tuple");
        Py_DECREF(attrs);
        Py_XDECREF(rest);
        return NULL;
    }
    PyObject *cell = make_cell(Py_TYPE(attrs), rest, ch);
    Py_DECREF(attrs);
    Py_DECREF(rest);
    if (cell == NULL)
        return NULL;
    if (PyDict_SetItem(glyphs, ch, cell) < 0) {
        Py_DECREF(cell);
        return NULL;
    }
    return cell;
}

/* The cell of `ch` in `glyphs`; a new reference, NULL on error. */
static PyObject *
glyph(PyObject *glyphs, PyObject *ch)
{
    PyObject *cell = PyDict_GetItemWithError(glyphs, ch);
    if (cell != NULL) {
        Py_INCREF(cell);
        return cell;
    }
    if (PyErr_Occurred())
        return NULL;
    return new_glyph(glyphs, ch);
}

/* The first character of a cell's data (*empty if it has none, or is no cell). */
static Py_UCS4
first_char(PyObject *cell, int *empty)
{
    *empty = 1;
    if (!PyTuple_Check(cell) || PyTuple_GET_SIZE(cell) < 1)
        return 0;
    PyObject *d = PyTuple_GET_ITEM(cell, 0);
    if (!PyUnicode_Check(d) || PyUnicode_GET_LENGTH(d) == 0)
        return 0;
    *empty = 0;
    return PyUnicode_READ_CHAR(d, 0);
}

static PyObject *fast_row; /* engine.fastpath.FastRow, given by setup() */
/* cellpath._call(screen, final, params, x, y, glyphs) -> (x, y, glyphs, top, bottom): a rarer
token through the screen's own method, given by setup() */
static PyObject *screen_call;
static PyObject *monotonic; /* time.monotonic, given by setup() */
static PyObject *sync_mode; /* synchronized output's mode as the screen keeps it: 2026 << 5 */

/* A row changed outside its dict methods: a fast-path row (FastRow) no longer stands for
its cached history line (its own __setitem__ would have said so). */
static int
drop_hist(PyObject *line)
{
    if (fast_row == NULL || !PyObject_TypeCheck(line, (PyTypeObject *)fast_row))
        return 0;
    return PyObject_SetAttr(line, s_hist, Py_None);
}

/* line.get(x): the cell at column x (borrowed), or NULL (with an error set if it failed). */
static PyObject *
cell_get(PyObject *line, Py_ssize_t x)
{
    PyObject *key = PyLong_FromSsize_t(x);
    if (key == NULL)
        return NULL;
    PyObject *cell = PyDict_GetItemWithError(line, key);
    Py_DECREF(key);
    return cell;
}

/* Whether the cell left of column x on row y ends with a ZERO WIDTH JOINER, as
Screen._after_joiner says: then the next character that is not ASCII joins it. */
static int
after_joiner(PyObject *rows, Py_ssize_t y, Py_ssize_t x, Py_ssize_t columns)
{
    Py_ssize_t left = (x < columns ? x : columns) - 1;
    if (left < 0)
        return 0;
    PyObject *key = PyLong_FromSsize_t(y);
    if (key == NULL)
        return -1;
    PyObject *line = PyDict_GetItemWithError(rows, key); /* rows.get(y) */
    Py_DECREF(key);
    if (line == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyDict_Check(line))
        return 0;
    PyObject *cell = cell_get(line, left);
    int empty;
    if (cell != NULL && left > 0) { /* the right half of a wide character: the whole one */
        first_char(cell, &empty);
        if (empty)
            cell = cell_get(line, left - 1);
    }
    if (cell == NULL || !PyTuple_Check(cell) || PyTuple_GET_SIZE(cell) < 1)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *data = PyTuple_GET_ITEM(cell, 0);
    Py_ssize_t n = PyUnicode_Check(data) ? PyUnicode_GET_LENGTH(data) : 0;
    return n > 0 && PyUnicode_READ_CHAR(data, n - 1) == 0x200d;
}

/* Whether the style of `glyphs` has the default background (blanks it makes are no cells):
1, 0, or -1 on error. */
static int
plain_background(PyObject *glyphs)
{
    PyObject *attrs = PyObject_GetAttr(glyphs, s_attrs);
    if (attrs == NULL)
        return -1;
    int plain = PyTuple_Check(attrs) && PyTuple_GET_SIZE(attrs) > 2;
    if (plain)
        plain = PyObject_RichCompareBool(PyTuple_GET_ITEM(attrs, 2), s_default, Py_EQ);
    Py_DECREF(attrs);
    return plain;
}

/* Whether at least two lines the line fast path takes (fastpath._LINES, MIN_BATCH: ASCII text
and SGRs, then CR LF) start at `p`. */
static int
plain_lines_follow(int kind, const void *data, Py_ssize_t p, Py_ssize_t len)
{
    int count = 0;
    while (p < len) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (c >= 0x20 && c <= 0x7e) {
            p++;
            continue;
        }
        if (c == 0x1b && p + 1 < len && PyUnicode_READ(kind, data, p + 1) == '[') {
            Py_ssize_t q = p + 2;
            while (q < len) {
                Py_UCS4 d = PyUnicode_READ(kind, data, q);
                if ((d < '0' || d > '9') && d != ';')
                    break;
                q++;
            }
            if (q < len && PyUnicode_READ(kind, data, q) == 'm') {
                p = q + 1;
                continue;
            }
            return 0;
        }
        if (c == '\r' && p + 1 < len && PyUnicode_READ(kind, data, p + 1) == '\n') {
            if (++count >= 2)
                return 1;
            p += 2;
            continue;
        }
        return 0;
    }
    return 0;
}

/* LF or text wrapping at the bottom of the scroll region on the alternate screen scrolls it,
as Screen._shift_up does there (no history): rows top..bottom move up one, a blank row
enters at the bottom. */
static int
scroll_up(PyObject *rows, Py_ssize_t top, Py_ssize_t bottom, PyObject *dirty)
{
    Py_ssize_t n = bottom - top + 1;
    PyObject *moved = PyList_New(n);
    if (moved == NULL)
        return -1;
    int rc = -1;
    for (Py_ssize_t t = top; t <= bottom; t++) {
        PyObject *key = PyLong_FromSsize_t(t);
        if (key == NULL)
            goto done;
        PyObject *row = PyObject_GetItem(rows, key); /* rows[t] makes it, as in Python */
        Py_DECREF(key);
        if (row == NULL)
            goto done;
        PyList_SET_ITEM(moved, t - top, row);
    }
    PyObject *factory = PyObject_GetAttrString(rows, "default_factory");
    if (factory == NULL)
        goto done;
    PyObject *blank = PyObject_CallNoArgs(factory);
    Py_DECREF(factory);
    if (blank == NULL)
        goto done;
    for (Py_ssize_t t = top; t <= bottom; t++) {
        PyObject *key = PyLong_FromSsize_t(t);
        PyObject *row = t == bottom ? blank : PyList_GET_ITEM(moved, t - top + 1);
        if (key == NULL || PyDict_SetItem(rows, key, row) < 0 || PySet_Add(dirty, key) < 0) {
            Py_XDECREF(key);
            Py_DECREF(blank);
            goto done;
        }
        Py_DECREF(key);
    }
    Py_DECREF(blank);
    rc = 0;
done:
    Py_DECREF(moved);
    return rc;
}

/* EL to the row's end as Screen._erase does it for default blanks (the style's background
is the default): the cells from x on go. Returns 1 if done, 0 if Screen._erase must do it
(another background, or a cell before x that may be half of a wide character), -1 on error. */
static int
erase_to_end(PyObject *line, Py_ssize_t x, PyObject *glyphs)
{
    int plain = plain_background(glyphs);
    if (plain <= 0)
        return plain;
    if (x > 0) {
        PyObject *left = cell_get(line, x - 1);
        if (left == NULL && PyErr_Occurred())
            return -1;
        int empty;
        if (left != NULL && (first_char(left, &empty) >= 0x1100 || !PyTuple_Check(left)))
            return 0; /* perhaps a wide character whose right half goes: _fix_wide's */
    }
    PyObject *doomed = PyList_New(0);
    if (doomed == NULL)
        return -1;
    Py_ssize_t i = 0;
    PyObject *key, *value;
    while (PyDict_Next(line, &i, &key, &value)) {
        if (!PyLong_Check(key)) {
            Py_DECREF(doomed);
            return 0;
        }
        Py_ssize_t column = PyLong_AsSsize_t(key);
        if (column == -1 && PyErr_Occurred()) {
            Py_DECREF(doomed);
            return -1;
        }
        if (column >= x && PyList_Append(doomed, key) < 0) {
            Py_DECREF(doomed);
            return -1;
        }
    }
    Py_ssize_t n = PyList_GET_SIZE(doomed);
    for (i = 0; i < n; i++) {
        if (PyDict_DelItem(line, PyList_GET_ITEM(doomed, i)) < 0) {
            Py_DECREF(doomed);
            return -1;
        }
    }
    Py_DECREF(doomed);
    if (n > 0 && drop_hist(line) < 0)
        return -1;
    return 1;
}

static PyObject *
setup(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyType_Check(args[0]) || !PyCallable_Check(args[1])
        || !PyBytes_Check(args[2]) || PyBytes_GET_SIZE(args[2]) != 0x10000
        || !PyCallable_Check(args[3]) || !PyLong_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "setup() takes FastRow, the call, the widths, the clock, the sync mode");
        return NULL;
    }
    Py_INCREF(args[3]);
    Py_XSETREF(monotonic, args[3]);
    Py_INCREF(args[4]);
    Py_XSETREF(sync_mode, args[4]);
    Py_INCREF(args[2]);
    Py_XSETREF(widths, args[2]);
    Py_INCREF(args[0]);
    Py_XSETREF(fast_row, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(screen_call, args[1]);
    Py_RETURN_NONE;
}

/* The cells of characters in one style, as they are looked up (strong references): every
ASCII character, and the last other character of each of 256 slots (text in a script repeats
its letters; a string made and hashed per character costs more than the rest of drawing it). */
#define SLOTS 256
typedef struct {
    PyObject *cells[128 + SLOTS];
    Py_UCS4 codes[SLOTS]; /* the character each other slot holds */
    unsigned short filled[128 + SLOTS];
    int count;
    PyObject *rest;       /* the style's fields after `data` (Glyphs._rest), once needed */
    PyTypeObject *type;   /* the cells' type */
} Cache;

static void
forget(Cache *cache)
{
    for (int k = 0; k < cache->count; k++)
        Py_CLEAR(cache->cells[cache->filled[k]]);
    cache->count = 0;
    Py_CLEAR(cache->rest);
}

/* The cell of the character at buf[index] in the style of `glyphs` (a new reference). */
static PyObject *
cell_at(Cache *cache, PyObject *glyphs, int kind, const void *data, Py_ssize_t index)
{
    Py_UCS4 code = PyUnicode_READ(kind, data, index);
    int slot = code < 128 ? (int)code : 128 + (int)(code % SLOTS);
    PyObject *cell = cache->cells[slot];
    if (cell != NULL && (code < 128 || cache->codes[slot - 128] == code)) {
        Py_INCREF(cell);
        return cell;
    }
    PyObject *ch = one_char_at(kind, data, index);
    if (ch == NULL)
        return NULL;
    if (code < 128)
        cell = glyph(glyphs, ch);
    else {
        /* Other characters are made here, not looked up in (and kept by) the style's glyphs:
        a page of distinct symbols or CJK makes that table big, and looking a character up
        in it costs more cache misses than making its cell. Cells equal those glyphs'. */
        if (cache->rest == NULL) {
            PyObject *attrs = PyObject_GetAttr(glyphs, s_attrs);
            PyObject *rest = attrs == NULL ? NULL : PyObject_GetAttr(glyphs, s_rest);
            if (rest != NULL && !PyTuple_Check(rest)) {
                PyErr_SetString(PyExc_TypeError, "Glyphs._rest is not a tuple");
                Py_CLEAR(rest);
            }
            if (rest == NULL) {
                Py_XDECREF(attrs);
                Py_DECREF(ch);
                return NULL;
            }
            cache->type = Py_TYPE(attrs); /* Cell: a class, alive while the module is */
            Py_DECREF(attrs);
            cache->rest = rest;
        }
        cell = make_cell(cache->type, cache->rest, ch);
    }
    Py_DECREF(ch);
    if (cell != NULL) {
        if (cache->cells[slot] == NULL)
            cache->filled[cache->count++] = (unsigned short)slot;
        else
            Py_DECREF(cache->cells[slot]);
        Py_INCREF(cell);
        cache->cells[slot] = cell;
        if (code >= 128)
            cache->codes[slot - 128] = code;
    }
    return cell;
}

/* rows[y], which makes a missing row (a new reference). */
static PyObject *
row_at(PyObject *rows, Py_ssize_t y)
{
    PyObject *key = PyLong_FromSsize_t(y);
    if (key == NULL)
        return NULL;
    PyObject *row = PyObject_GetItem(rows, key);
    Py_DECREF(key);
    return row;
}

/* line.get(x): whether a cell is there, and its first character (*empty if its data is ""). */
static int
cell_there(PyObject *line, Py_ssize_t x, Py_UCS4 *first, int *empty)
{
    PyObject *cell = cell_get(line, x);
    if (cell == NULL)
        return PyErr_Occurred() ? -1 : 0;
    *first = first_char(cell, empty);
    return 1;
}

static int
set_cell(PyObject *line, Py_ssize_t x, PyObject *cell)
{
    PyObject *key = PyLong_FromSsize_t(x);
    if (key == NULL)
        return -1;
    int rc = PyDict_SetItem(line, key, cell);
    Py_DECREF(key);
    return rc;
}

/* A row full of one cell, copied into a cleared row (as cellpath.store_narrow does): one
remembered at a time, and a background fill or a rule repeats row after row. */
static PyObject *fill_cell, *fill_row;

/* Store buf[from:to] (characters of one `width`) in `line` from column x, where it fits, as
Screen._put_run stores it; at half of a wide character it calls _put_run itself. */
static int
store_run(Cache *cache, PyObject *glyphs, PyObject *line, Py_ssize_t x, int width, PyObject *buf,
          Py_ssize_t from, Py_ssize_t to, Py_ssize_t columns, PyObject *put_run)
{
    int kind = PyUnicode_KIND(buf);
    const void *data = PyUnicode_DATA(buf);
    Py_ssize_t n = to - from, end = x + n * width;
    Py_UCS4 first = 0, last = 0;
    int first_empty = 1, last_empty = 1;
    int first_there = cell_there(line, x, &first, &first_empty);
    if (first_there < 0)
        return -1;
    int careful; /* perhaps half of a wide character: Screen._put_run looks closer */
    if (width == 1) {
        int last_there = first_there;
        last = first;
        last_empty = first_empty;
        if (n > 1 && (last_there = cell_there(line, end - 1, &last, &last_empty)) < 0)
            return -1;
        if (n == 1)
            careful = first_there && (first_empty || first < 0x20 || first >= 0x1100);
        else
            careful = (first_there && first_empty) || (last_there && !last_empty && last >= 0x1100);
    }
    else {
        int right_there = 0;
        if (end < columns && (right_there = cell_there(line, end, &last, &last_empty)) < 0)
            return -1;
        careful = (x > 0 && first_there && first_empty) || (right_there && last_empty);
    }
    if (careful) {
        PyObject *text = PyUnicode_Substring(buf, from, to);
        if (text == NULL)
            return -1;
        PyObject *done = PyObject_CallFunction(put_run, "OnOiO", line, x, text, width, glyphs);
        Py_DECREF(text);
        Py_XDECREF(done);
        return done == NULL ? -1 : 0;
    }
    if (width == 1 && n == columns) { /* a whole row of one character: a ready row's copy */
        Py_UCS4 c0 = PyUnicode_READ(kind, data, from);
        Py_ssize_t q = from + 1;
        while (q < to && PyUnicode_READ(kind, data, q) == c0)
            q++;
        if (q == to) {
            PyObject *cell = cell_at(cache, glyphs, kind, data, from);
            if (cell == NULL)
                return -1;
            if (cell != fill_cell || fill_row == NULL || PyDict_GET_SIZE(fill_row) != n) {
                PyObject *row = PyDict_New();
                for (Py_ssize_t k = 0; row != NULL && k < n; k++) {
                    if (set_cell(row, k, cell) < 0)
                        Py_CLEAR(row);
                }
                if (row == NULL) {
                    Py_DECREF(cell);
                    return -1;
                }
                Py_XSETREF(fill_row, row);
                Py_XSETREF(fill_cell, cell);
            }
            else
                Py_DECREF(cell);
            PyDict_Clear(line);
            if (PyDict_Update(line, fill_row) < 0)
                return -1;
            return drop_hist(line);
        }
    }
    PyObject *stub = NULL;
    if (width == 2 && (stub = glyph(glyphs, s_empty)) == NULL)
        return -1;
    for (Py_ssize_t q = from; q < to; q++, x += width) {
        PyObject *cell = cell_at(cache, glyphs, kind, data, q);
        if (cell == NULL || set_cell(line, x, cell) < 0 || (stub && set_cell(line, x + 1, stub) < 0)) {
            Py_XDECREF(cell);
            Py_XDECREF(stub);
            return -1;
        }
        Py_DECREF(cell);
    }
    Py_XDECREF(stub);
    return drop_hist(line);
}

static PyObject *
run(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 18 || screen_call == NULL) {
        PyErr_SetString(PyExc_TypeError, "run() takes 18 arguments, after setup()");
        return NULL;
    }
    PyObject *mode = args[17]; /* the screen's modes */
    if (!PySet_Check(mode)) {
        PyErr_SetString(PyExc_TypeError, "run(): the modes are not a set");
        return NULL;
    }
    int autowrap = PyObject_IsTrue(args[16]); /* DECAWM */
    if (autowrap < 0)
        return NULL;
    int alternate = PyObject_IsTrue(args[15]); /* the alternate screen: no history */
    if (alternate < 0)
        return NULL;
    int zwj = PyObject_IsTrue(args[13]); /* a ZWJ was drawn: text may join its cell */
    if (zwj < 0)
        return NULL;
    PyObject *buf = args[0], *rows = args[2], *glyphs = args[5], *dirty = args[9];
    PyObject *put_run = args[10], *drawn = args[11], *screen = args[12];
    if (!PyUnicode_Check(buf) || !PyDict_Check(rows) || !PyDict_Check(glyphs)
        || !PySet_Check(dirty)) {
        PyErr_SetString(PyExc_TypeError, "run(): bad argument types");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    Py_ssize_t x = PyLong_AsSsize_t(args[3]);
    Py_ssize_t y = PyLong_AsSsize_t(args[4]);
    Py_ssize_t columns = PyLong_AsSsize_t(args[6]);
    Py_ssize_t lines = PyLong_AsSsize_t(args[7]);
    Py_ssize_t bottom = PyLong_AsSsize_t(args[8]);
    Py_ssize_t top = PyLong_AsSsize_t(args[14]);
    if (PyErr_Occurred())
        return NULL;

    int kind = PyUnicode_KIND(buf);
    const void *data = PyUnicode_DATA(buf);
    Py_ssize_t len = PyUnicode_GET_LENGTH(buf);

    PyObject *error = NULL;
    PyObject *line = NULL; /* row y (a strong reference), fetched when text is drawn */
    Py_ssize_t line_y = -1; /* the row `line` is */
    Cache cache = {{NULL}, {0}, {0}, 0, NULL, NULL}; /* cells of the current style */
    PyObject *after_sgr = PyObject_GetAttr(glyphs, s_after_sgr);
    if (after_sgr == NULL)
        return NULL;
    Py_INCREF(glyphs);
    Py_INCREF(drawn);
    Py_ssize_t dirty_y = -1; /* the row last marked dirty */
    int joiner = 0;          /* it stopped at text that joins the ZWJ cell left of it */

#define FAIL goto failed
#define FORGET_ASCII() forget(&cache)
#define SET_DRAWN(obj)       \
    do {                     \
        Py_INCREF(obj);      \
        Py_SETREF(drawn, obj); \
    } while (0)
#define MARK_DIRTY(row)                              \
    do {                                             \
        if ((row) != dirty_y) {                      \
            PyObject *r_ = PyLong_FromSsize_t(row);  \
            if (r_ == NULL || PySet_Add(dirty, r_) < 0) { \
                Py_XDECREF(r_);                      \
                FAIL;                                \
            }                                        \
            Py_DECREF(r_);                           \
            dirty_y = (row);                         \
        }                                            \
    } while (0)

    while (pos < len) {
        Py_UCS4 c = READ(pos);
        if (c == 0x1b) {
            Py_ssize_t p = pos + 1;
            if (p >= len)
                break;
            Py_UCS4 next = READ(p);
            if (next == '(') { /* ESC ( B: G0 is ASCII already (the caller checked) */
                if (p + 1 < len && READ(p + 1) == 'B') {
                    pos = p + 2;
                    SET_DRAWN(s_empty);
                    continue;
                }
                break;
            }
            if (next != '[')
                break;
            Py_ssize_t start = ++p;
            Py_ssize_t call_end = 0; /* where a token for screen_call ends */
            Py_UCS4 call_final = 0;
            if (p + 5 < len && READ(p) == '?' && READ(p + 1) == '2' && READ(p + 2) == '0'
                && READ(p + 3) == '2' && READ(p + 4) == '6'
                && (READ(p + 5) == 'h' || READ(p + 5) == 'l')) {
                /* synchronized output, as Screen.set_mode and reset_mode keep it: the mode,
                and when the program last began an update */
                if (READ(p + 5) == 'h') {
                    PyObject *now = PyObject_CallNoArgs(monotonic);
                    if (now == NULL)
                        FAIL;
                    int rc = PyObject_SetAttr(screen, s_synchronized_since, now);
                    Py_DECREF(now);
                    if (rc < 0 || PySet_Add(mode, sync_mode) < 0)
                        FAIL;
                }
                else if (PySet_Discard(mode, sync_mode) < 0)
                    FAIL;
                pos = p + 6;
                SET_DRAWN(s_empty);
                continue;
            }
            while (p < len) {
                Py_UCS4 d = READ(p);
                if ((d >= '0' && d <= '9') || d == ';' || d == ':')
                    p++;
                else
                    break;
            }
            if (p >= len)
                break;
            Py_UCS4 final = READ(p);
            if (final == 'm') {
                PyObject *key = PyUnicode_Substring(buf, start, p);
                if (key == NULL)
                    FAIL;
                PyObject *after = PyDict_GetItemWithError(after_sgr, key);
                Py_DECREF(key);
                if (after == NULL) {
                    if (PyErr_Occurred())
                        FAIL;
                    break; /* the Python loop or the general path learns this one */
                }
                if (after != glyphs) {
                    PyObject *next_after = PyObject_GetAttr(after, s_after_sgr);
                    if (next_after == NULL)
                        FAIL;
                    Py_SETREF(after_sgr, next_after);
                    Py_INCREF(after);
                    Py_SETREF(glyphs, after);
                    FORGET_ASCII();
                }
                pos = p + 1;
                SET_DRAWN(s_empty);
                continue;
            }
            if (final == 'H' || final == 'f') { /* at most two numbers of at most 4 digits */
                Py_ssize_t nums[2] = {0, 0}, digits = 0;
                int index = 0, ok = 1;
                for (Py_ssize_t q = start; q < p; q++) {
                    Py_UCS4 d = READ(q);
                    if (d == ';' && index == 0) {
                        index = 1;
                        digits = 0;
                    }
                    else if (d >= '0' && d <= '9' && digits < 4) {
                        nums[index] = nums[index] * 10 + (d - '0');
                        digits++;
                    }
                    else {
                        ok = 0;
                        break;
                    }
                }
                if (!ok)
                    break;
                Py_ssize_t row = nums[0] - 1, column = nums[1] - 1;
                y = row < 0 ? 0 : (row > lines - 1 ? lines - 1 : row);
                x = column < 0 ? 0 : (column > columns - 1 ? columns - 1 : column);
                if (y != line_y)
                    Py_CLEAR(line);
                pos = p + 1;
                SET_DRAWN(s_empty);
                continue;
            }
            if (final == 'K' && (p == start || (p == start + 1 && READ(start) == '0'))) {
                /* EL to the row's end: an empty row is only marked (else below) */
                if (line == NULL) {
                    line = row_at(rows, y); /* rows[y] makes it, as in Python */
                    if (line == NULL)
                        FAIL;
                    line_y = y;
                }
                int plain = PyDict_Check(line) && PyDict_GET_SIZE(line) == 0;
                if (plain && (plain = plain_background(glyphs)) < 0)
                    FAIL;
                if (plain) { /* an empty row, erased to default blanks: no cells */
                    MARK_DIRTY(y);
                    pos = p + 1;
                    SET_DRAWN(s_empty);
                    continue;
                }
                int erased = erase_to_end(line, x, glyphs);
                if (erased < 0)
                    FAIL;
                if (erased) {
                    MARK_DIRTY(y);
                    pos = p + 1;
                    SET_DRAWN(s_empty);
                    continue;
                }
            }
            /* EL to the row's end on a row with cells (above), ECH, DECSTBM (at most two
            numbers), IL, DL: numbers of at most four digits, as the Python loop takes them */
            if (final == 'K' || final == 'X' || final == 'r' || final == 'L' || final == 'M') {
                int numbers = 1, digits = 0, ok = 1;
                for (Py_ssize_t q = start; q < p; q++) {
                    Py_UCS4 d = READ(q);
                    if (d == ';' && final == 'r' && numbers == 1) {
                        numbers = 2;
                        digits = 0;
                    }
                    else if (d >= '0' && d <= '9' && digits < 4)
                        digits++;
                    else {
                        ok = 0;
                        break;
                    }
                }
                if (final == 'K' && p != start && !(p == start + 1 && READ(start) == '0'))
                    ok = 0;
                if (!ok)
                    break;
                call_final = final;
                call_end = p + 1;
            }
            else
                break;
        {
            PyObject *params = PyUnicode_Substring(buf, start, call_end - 1);
            if (params == NULL)
                FAIL;
            PyObject *result = PyObject_CallFunction(screen_call, "OCNnnO", screen,
                                                     (int)call_final, params, x, y, glyphs);
            if (result == NULL)
                FAIL;
            PyObject *new_glyphs;
            Py_ssize_t new_top, new_bottom;
            if (!PyArg_ParseTuple(result, "nnOnn", &x, &y, &new_glyphs, &new_top, &new_bottom)) {
                Py_DECREF(result);
                FAIL;
            }
            top = new_top;
            bottom = new_bottom;
            if (new_glyphs != glyphs) {
                PyObject *next_after = PyObject_GetAttr(new_glyphs, s_after_sgr);
                if (next_after == NULL) {
                    Py_DECREF(result);
                    FAIL;
                }
                Py_SETREF(after_sgr, next_after);
                Py_INCREF(new_glyphs);
                Py_SETREF(glyphs, new_glyphs);
                FORGET_ASCII();
            }
            Py_DECREF(result);
            Py_CLEAR(line); /* IL and DL move rows */
            pos = call_end;
            SET_DRAWN(s_empty);
            continue;
        }
        }
        if (c == '\r') {
            x = 0;
            pos++;
            SET_DRAWN(s_empty);
            continue;
        }
        if (c == '\n') { /* as Screen.linefeed */
            if (bottom < 0)
                break;
            /* At the region's bottom it scrolls: here on the alternate screen (no history),
            unless the lines after it are the line fast path's (engine/fastpath.py), which
            the general path tries after its LF: plain lines, scrolled in at once. */
            int scroll = y == bottom;
            if (scroll) {
                if (!alternate || (x == 0 && autowrap && plain_lines_follow(kind, data, pos + 1, len)))
                    break;
                int plain = plain_background(glyphs);
                if (plain < 0)
                    FAIL;
                if (!plain)
                    break; /* new rows take the background colour: Screen._fill_background */
            }
            PyObject *key = PyLong_FromSsize_t(y);
            if (key == NULL)
                FAIL;
            PyObject *row = PyDict_GetItemWithError(rows, key); /* rows.get(y) */
            Py_DECREF(key);
            if (row == NULL && PyErr_Occurred())
                FAIL;
            if (row != NULL && !PyDict_CheckExact(row)) {
                PyObject *wrapped = PyObject_GetAttr(row, s_wrapped);
                if (wrapped == NULL) {
                    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                        FAIL;
                    PyErr_Clear();
                }
                else {
                    int truth = PyObject_IsTrue(wrapped);
                    Py_DECREF(wrapped);
                    if (truth < 0 || (truth && PyObject_SetAttr(row, s_wrapped, Py_False) < 0))
                        FAIL;
                }
            }
            if (scroll) {
                if (scroll_up(rows, top, bottom, dirty) < 0)
                    FAIL;
                Py_CLEAR(line);
            }
            else if (y < lines - 1) {
                y++;
                Py_CLEAR(line);
            }
            pos++;
            SET_DRAWN(s_empty);
            continue;
        }
        /* text: a run of characters of one width (1, or 2 where two columns fit) */
        int width = WIDTH(c);
        if (width != 1 && (width != 2 || columns < 2))
            break; /* not text this loop draws: the general path draws it */
        if (zwj && c > 0x7e) { /* it may join a ZWJ cell left of the cursor */
            int joins = after_joiner(rows, y, x, columns);
            if (joins < 0)
                FAIL;
            if (joins) {
                joiner = 1;
                break;
            }
        }
        Py_ssize_t end = pos + 1;
        while (end < len && WIDTH(READ(end)) == width)
            end++;
        while (pos < end) {
            if (x + width > columns) { /* it wraps first, as Screen._draw_run does */
                /* where the general path does it: no autowrap (the margin), LNM, the last
                row below the region, the region's bottom on the main screen (history) */
                if (!autowrap || bottom < 0 || (y == bottom ? !alternate : y >= lines - 1))
                    goto stopped;
                if (y == bottom) {
                    int plain = plain_background(glyphs);
                    if (plain < 0)
                        FAIL;
                    if (!plain)
                        goto stopped; /* new rows take the background: Screen's own */
                }
                if (line == NULL) {
                    line = row_at(rows, y);
                    if (line == NULL)
                        FAIL;
                    line_y = y;
                }
                if (PyObject_SetAttr(line, s_wrapped, Py_True) < 0
                    || PyObject_SetAttr(line, s_gap, x < columns ? Py_True : Py_False) < 0)
                    FAIL;
                MARK_DIRTY(y);
                x = 0;
                if (y == bottom) {
                    /* Rows of this run that would scroll straight off the alternate screen
                    are not drawn (as Screen._scroll_in): the region ends holding the run's
                    last rows whatever came before, each new row scrolling once. */
                    Py_ssize_t per_row = columns / width, height = bottom - top + 1;
                    Py_ssize_t rows_left = (end - pos + per_row - 1) / per_row;
                    if (rows_left > height)
                        pos += (rows_left - height) * per_row;
                    if (scroll_up(rows, top, bottom, dirty) < 0)
                        FAIL;
                }
                else
                    y++;
                Py_CLEAR(line);
            }
            Py_ssize_t n = (columns - x) / width;
            if (n > end - pos)
                n = end - pos;
            if (line == NULL) {
                line = row_at(rows, y);
                if (line == NULL)
                    FAIL;
                line_y = y;
            }
            if (!PyDict_Check(line))
                goto stopped;
            if (store_run(&cache, glyphs, line, x, width, buf, pos, pos + n, columns, put_run) < 0)
                FAIL;
            x += n * width;
            MARK_DIRTY(y);
            PyObject *ch = one_char_at(kind, data, pos + n - 1);
            if (ch == NULL)
                FAIL;
            Py_SETREF(drawn, ch);
            pos += n;
        }
        continue;

    failed: /* the token at pos is not done: the caller counts the error and goes on */
        {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            if (tb != NULL && value != NULL)
                PyException_SetTraceback(value, tb);
            Py_XDECREF(type);
            Py_XDECREF(tb);
            error = value;
        }
        break;
    }
stopped:
    Py_XDECREF(line);
    Py_DECREF(after_sgr);
    FORGET_ASCII();
    /* the text from pos on that this loop leaves to the general path (zero-width characters,
    ones it drops, ones past the BMP, what may join a ZWJ cell): the caller draws it and
    comes back, rather than hand the parser the rest of the line */
    Py_ssize_t refused = pos;
    while (error == NULL && refused < len) {
        Py_UCS4 d = READ(refused);
        int w = WIDTH(d);
        if (d < 0x20 || (d >= 0x7f && d < 0xa0))
            break;
        if ((w == 1 || (w == 2 && columns > 1)) && !(joiner && refused == pos))
            break; /* text this loop draws (it stopped at pos for another reason) */
        refused++;
    }
    if (error == NULL) {
        error = Py_None;
        Py_INCREF(error);
    }
    PyObject *result = Py_BuildValue("(nnnNNNn)", pos, x, y, glyphs, drawn, error, refused);
    return result;
#undef FAIL
#undef FORGET_ASCII
#undef SET_DRAWN
#undef MARK_DIRTY
}

static PyMethodDef methods[] = {
    {"setup", (PyCFunction)(void (*)(void))setup, METH_FASTCALL, "Name the row type whose cached history line a change drops."},
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL,
     "Take the hot tokens of a redraw from buf[i:] (see the module's source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "engine._cells", "The cell fast path's hottest tokens in C.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__cells(void)
{
    s_after_sgr = PyUnicode_InternFromString("after_sgr");
    s_hist = PyUnicode_InternFromString("hist");
    s_wrapped = PyUnicode_InternFromString("wrapped");
    s_attrs = PyUnicode_InternFromString("attrs");
    s_default = PyUnicode_InternFromString("default");
    s_empty = PyUnicode_InternFromString("");
    s_gap = PyUnicode_InternFromString("gap");
    s_styles = PyUnicode_InternFromString("_styles");
    s_left = PyUnicode_InternFromString("left");
    s_forget = PyUnicode_InternFromString("forget");
    s_rest = PyUnicode_InternFromString("_rest");
    s_synchronized_since = PyUnicode_InternFromString("synchronized_since");
    if (!s_after_sgr || !s_hist || !s_wrapped || !s_attrs || !s_default || !s_empty || !s_gap
        || !s_styles || !s_left || !s_forget || !s_rest || !s_synchronized_since)
        return NULL;
    for (int c = 0; c < 128; c++) {
        one_char[c] = PyUnicode_FromOrdinal(c);
        if (one_char[c] == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}
