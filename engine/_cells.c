/* The cell fast path's hottest tokens in C (engine/cellpath.py says what each one does).

A full-screen redraw is some fifty thousand tokens per megabyte: SGRs, cursor positions, short
runs of ASCII text, CR and LF. Matching one with a regular expression and branching on it in
Python costs about as much as tmux spends on a whole token, so this loop takes those tokens
with the screen's state in C locals and stops at the first token it does not take. The Python
loop (`cellpath._draw_python`) then takes that one, and the parser's general path what neither
takes. It stores the same cells in the same rows as the Python loop, which stays the oracle:
tests run both against the general path.

run(buf, i, rows, x, y, glyphs, columns, lines, bottom, dirty, put_run, drawn, screen, zwj,
    top, alternate) -> (pos, x, y, glyphs, drawn, error)

`rows` is the screen's row table (a defaultdict: `rows[y]` makes a missing row), `glyphs`
the cells of the current style (a dict subclass: a missing character is made by
`glyphs[ch]`), `top` and `bottom` the scroll region's rows (bottom -1: LF is not taken),
`dirty` the screen's set of changed rows, `put_run` the screen's `_put_run` (text over half
of a wide character), `drawn` what REP would repeat, `zwj` whether a ZERO WIDTH JOINER was
drawn (text may join its cell), `alternate` whether the alternate screen is shown (a scroll
keeps no history there). `setup()` gives the Python parts it calls. `pos` is where the first token not taken starts; `error` is
None, or an exception raised by Python code called from here (the tokens before it are done).
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *s_after_sgr, *s_hist, *s_wrapped, *s_attrs, *s_default, *s_empty;
static PyObject *one_char[128]; /* the one-character strings of ASCII */
/* engine.width._BMP, given by setup(): a byte per code point below U+10000, its width + 1 */
static PyObject *widths;
#define NARROW(ch) ((ch) < 0x10000 && ((const unsigned char *)PyBytes_AS_STRING(widths))[ch] == 2)

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
    return PyObject_GetItem(glyphs, ch); /* Glyphs.__missing__ makes it */
}

/* The first character of a cell's data, -1 if it is empty or not a cell. */
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

/* A row changed outside its dict methods: a fast-path row (FastRow) no longer stands for
its cached history line (its own __setitem__ would have said so). */
static int
drop_hist(PyObject *line)
{
    if (fast_row == NULL || !PyObject_TypeCheck(line, (PyTypeObject *)fast_row))
        return 0;
    return PyObject_SetAttr(line, s_hist, Py_None);
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

/* LF at the bottom of the scroll region on the alternate screen, as Screen._shift_up does it
there (no history): the rows top..bottom move up one, a blank row enters at the bottom. */
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
        PyObject *key = PyLong_FromSsize_t(x - 1);
        if (key == NULL)
            return -1;
        PyObject *left = PyDict_GetItemWithError(line, key);
        Py_DECREF(key);
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
    if (nargs != 3 || !PyType_Check(args[0]) || !PyCallable_Check(args[1])
        || !PyBytes_Check(args[2]) || PyBytes_GET_SIZE(args[2]) != 0x10000) {
        PyErr_SetString(PyExc_TypeError, "setup() takes FastRow, the call and the widths");
        return NULL;
    }
    Py_INCREF(args[2]);
    Py_XSETREF(widths, args[2]);
    Py_INCREF(args[0]);
    Py_XSETREF(fast_row, args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(screen_call, args[1]);
    Py_RETURN_NONE;
}

static PyObject *
run(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 16 || screen_call == NULL) {
        PyErr_SetString(PyExc_TypeError, "run() takes 16 arguments, after setup()");
        return NULL;
    }
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
    /* the cells of ASCII characters in the current style, as they are looked up */
    PyObject *ascii[128] = {NULL};
    unsigned char looked_up[128];
    int looked = 0;
    PyObject *after_sgr = PyObject_GetAttr(glyphs, s_after_sgr);
    if (after_sgr == NULL)
        return NULL;
    Py_INCREF(glyphs);
    Py_INCREF(drawn);
    Py_ssize_t dirty_y = -1; /* the row last marked dirty */

#define FAIL goto failed
#define FORGET_ASCII()                          \
    do {                                        \
        for (int k_ = 0; k_ < looked; k_++)     \
            Py_CLEAR(ascii[looked_up[k_]]);     \
        looked = 0;                             \
    } while (0)
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
                && (READ(p + 5) == 'h' || READ(p + 5) == 'l')) { /* synchronized output */
                call_final = READ(p + 5);
                call_end = p + 6;
                goto call;
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
                    PyObject *key = PyLong_FromSsize_t(y);
                    if (key == NULL)
                        FAIL;
                    line = PyObject_GetItem(rows, key); /* rows[y] makes it, as in Python */
                    line_y = y;
                    Py_DECREF(key);
                    if (line == NULL)
                        FAIL;
                }
                int plain = PyDict_Check(line) && PyDict_GET_SIZE(line) == 0;
                if (plain) {
                    PyObject *attrs = PyObject_GetAttr(glyphs, s_attrs);
                    if (attrs == NULL)
                        FAIL;
                    plain = PyTuple_Check(attrs) && PyTuple_GET_SIZE(attrs) > 2;
                    if (plain)
                        plain = PyObject_RichCompareBool(PyTuple_GET_ITEM(attrs, 2), s_default,
                                                         Py_EQ);
                    Py_DECREF(attrs);
                    if (plain < 0)
                        FAIL;
                }
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
        call: {
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
            /* At the region's bottom it scrolls: here only on the alternate screen (no
            history) and before a sequence (text after it is the line fast path's). */
            int scroll = y == bottom;
            if (scroll) {
                if (!alternate || pos + 1 >= len || READ(pos + 1) != 0x1b)
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
        if (!NARROW(c) || (zwj && c > 0x7e))
            break; /* not text, or perhaps joining a ZWJ cell: the general path draws it */
        /* a run of one-column characters */
        Py_ssize_t end = pos + 1;
        while (end < len && NARROW(READ(end)))
            end++;
        Py_ssize_t n = end - pos;
        if (x + n > columns)
            break; /* it wraps (or x is at the pending-wrap column): the general path */
        if (line == NULL) {
            PyObject *key = PyLong_FromSsize_t(y);
            if (key == NULL)
                FAIL;
            line = PyObject_GetItem(rows, key);
            line_y = y;
            Py_DECREF(key);
            if (line == NULL)
                FAIL;
        }
        if (!PyDict_Check(line))
            break;
        int empty;
        Py_UCS4 first = 0, last = 0;
        int first_empty = 1, last_empty = 1, first_there = 0, last_there = 0;
        {
            PyObject *key = PyLong_FromSsize_t(x);
            if (key == NULL)
                FAIL;
            PyObject *cell = PyDict_GetItemWithError(line, key);
            Py_DECREF(key);
            if (cell == NULL && PyErr_Occurred())
                FAIL;
            if (cell != NULL) {
                first_there = 1;
                first = first_char(cell, &empty);
                first_empty = empty;
            }
            if (n == 1) {
                last_there = first_there;
                last = first;
                last_empty = first_empty;
            }
            else {
                key = PyLong_FromSsize_t(x + n - 1);
                if (key == NULL)
                    FAIL;
                cell = PyDict_GetItemWithError(line, key);
                Py_DECREF(key);
                if (cell == NULL && PyErr_Occurred())
                    FAIL;
                if (cell != NULL) {
                    last_there = 1;
                    last = first_char(cell, &empty);
                    last_empty = empty;
                }
            }
        }
        int careful; /* perhaps half of a wide character: Screen._put_run looks closer */
        if (n == 1)
            careful = first_there && (first_empty || first < 0x20 || first >= 0x1100);
        else
            careful = (first_there && first_empty) || (last_there && !last_empty && last >= 0x1100);
        if (careful) {
            PyObject *text = PyUnicode_Substring(buf, pos, end);
            if (text == NULL)
                FAIL;
            PyObject *result = PyObject_CallFunction(put_run, "OnOiO", line, x, text, 1, glyphs);
            Py_DECREF(text);
            if (result == NULL)
                FAIL;
            Py_DECREF(result);
        }
        else {
            if (n == columns) { /* a whole row of one character: as store_narrow, a fresh row */
                Py_UCS4 c0 = READ(pos);
                Py_ssize_t q = pos + 1;
                while (q < end && READ(q) == c0)
                    q++;
                if (q == end)
                    PyDict_Clear(line);
            }
            for (Py_ssize_t q = pos; q < end; q++) {
                Py_UCS4 code = READ(q);
                PyObject *cell;
                if (code < 128 && ascii[code] != NULL) {
                    cell = ascii[code];
                    Py_INCREF(cell);
                }
                else {
                    PyObject *ch = one_char_at(kind, data, q);
                    if (ch == NULL)
                        FAIL;
                    cell = glyph(glyphs, ch);
                    Py_DECREF(ch);
                    if (cell == NULL)
                        FAIL;
                    if (code < 128) {
                        Py_INCREF(cell);
                        ascii[code] = cell;
                        looked_up[looked++] = (unsigned char)code;
                    }
                }
                PyObject *key = PyLong_FromSsize_t(x + (q - pos));
                if (key == NULL) {
                    Py_DECREF(cell);
                    FAIL;
                }
                int rc = PyDict_SetItem(line, key, cell);
                Py_DECREF(key);
                Py_DECREF(cell);
                if (rc < 0)
                    FAIL;
            }
            if (drop_hist(line) < 0)
                FAIL;
        }
        x += n;
        MARK_DIRTY(y);
        {
            PyObject *ch = one_char_at(kind, data, end - 1);
            if (ch == NULL)
                FAIL;
            Py_SETREF(drawn, ch);
        }
        pos = end;
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
    Py_XDECREF(line);
    Py_DECREF(after_sgr);
    FORGET_ASCII();
    if (error == NULL) {
        error = Py_None;
        Py_INCREF(error);
    }
    PyObject *result = Py_BuildValue("(nnnNNN)", pos, x, y, glyphs, drawn, error);
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
    if (!s_after_sgr || !s_hist || !s_wrapped || !s_attrs || !s_default || !s_empty)
        return NULL;
    for (int c = 0; c < 128; c++) {
        one_char[c] = PyUnicode_FromOrdinal(c);
        if (one_char[c] == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}
