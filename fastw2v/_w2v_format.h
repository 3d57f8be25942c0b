/* Numbers of the word2vec text format: float32 values printed as numpy's str() prints them, and
 * decimal values read back as Python's float() reads them.
 *
 * Printing. numpy prints a float32 with the fewest significant digits that read back as the
 * same float32 (round-half-even reading; among equally short candidates the one closest to the
 * value, ties to an even digit), positionally when 1e-4 <= |v| < threshold (1e16 before numpy
 * 2.3, 1e6 since) and for zero, otherwise in scientific notation with a two-digit exponent:
 * "0.1", "-2.5", "123456.79", "1.0", "1e-05", "1.2345679e+08", "-0.0", "nan", "inf".
 * The digits come from exact integer arithmetic: the value and the midpoints to its two
 * neighbours are scaled by a power of ten into 64-bit integers (through 192-bit products with
 * exact powers of five, no approximated tables), and decimal digits are then dropped while the
 * interval between the midpoints still holds a shorter number. This is the digit removal of
 * Ryu (Adams, PLDI 2018), fed with exact quotients instead of approximated ones.
 *
 * Reading. A decimal number of at most 19 significant digits whose power of ten is within
 * +-22 (every value the formats' writers produce) is converted with one correctly rounded
 * multiplication or division of two exact doubles (Clinger's fast path); anything else is left
 * to the caller's full parser. The double is what Python's float() gives; a float32 matrix
 * stores it rounded to float32, as numpy does with text it converts.
 */
#ifndef FASTW2V_W2V_FORMAT_H
#define FASTW2V_W2V_FORMAT_H

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 fw_u128;

/* Longest text of one float32 value: sign, 16 integer digits (thresholds up to 1e16), point,
 * digit; or sign, 9 digits, point, "e-45". */
#define FW_MAX_VALUE_CHARS 24

/* Exact powers of five up to 5^55 < 2^128. */
static fw_u128 fw_pow5[56];

static void fw_format_init(void) {
    fw_u128 power = 1;
    for (int i = 0; i < 56; i++) {
        fw_pow5[i] = power;
        power *= 5;
    }
}

/* floor(e * log10(2)) and floor(e * log10(5)) for 0 <= e <= 1650, by fixed-point constants. */
static inline int32_t fw_log10_pow2(int32_t e) { return (int32_t)(((uint32_t)e * 78913u) >> 18); }
static inline int32_t fw_log10_pow5(int32_t e) { return (int32_t)(((uint32_t)e * 732923u) >> 20); }

/* floor(x * 5^i / 2^s) and whether the division is exact; x < 2^32, i <= 55, the result below
 * 2^64. */
static inline uint64_t fw_mul_pow5_shift(uint32_t x, int32_t i, int32_t s, int *exact) {
    fw_u128 power = fw_pow5[i];
    fw_u128 low = (fw_u128)x * (uint64_t)power;
    fw_u128 high = (fw_u128)x * (uint64_t)(power >> 64) + (low >> 64);
    uint64_t low64 = (uint64_t)low;
    /* the product is high * 2^64 + low64 */
    if (s >= 64) {
        int32_t t = s - 64;
        fw_u128 mask = (((fw_u128)1) << t) - 1;
        *exact = low64 == 0 && (high & mask) == 0;
        return (uint64_t)(high >> t);
    }
    uint64_t mask = s == 0 ? 0 : (~(uint64_t)0 >> (64 - s));
    *exact = (low64 & mask) == 0;
    if (s == 0) {
        return low64;
    }
    return (uint64_t)((high << (64 - s)) | (low64 >> s));
}

/* floor(x * 2^s / 5^q) and whether the division is exact; s <= 100, q <= 55. */
static inline uint64_t fw_shift_div_pow5(uint32_t x, int32_t s, int32_t q, int *exact) {
    fw_u128 numerator = ((fw_u128)x) << s;
    fw_u128 divisor = fw_pow5[q];
    fw_u128 quotient = numerator / divisor;
    *exact = quotient * divisor == numerator;
    return (uint64_t)quotient;
}

/* The shortest digits of a finite, nonzero float32 given by its bits (sign ignored):
 * value = *digits * 10^*exponent, *digits without trailing zeros. */
static void fw_shortest_float32(uint32_t bits, uint64_t *digits, int32_t *exponent) {
    uint32_t ieee_mantissa = bits & 0x7fffffu;
    uint32_t ieee_exponent = (bits >> 23) & 0xffu;
    uint32_t m2;
    int32_t e2;
    if (ieee_exponent == 0) {
        m2 = ieee_mantissa;
        e2 = 1 - 127 - 23 - 2;
    } else {
        m2 = ieee_mantissa | (1u << 23);
        e2 = (int32_t)ieee_exponent - 127 - 23 - 2;
    }
    /* Round-half-even reading takes a midpoint to the neighbour with the even mantissa: the
     * interval's ends belong to the value when its mantissa is even. */
    int accept_bounds = (m2 & 1u) == 0;
    /* At a power of two (but not at the smallest normal) the neighbour below is half as far. */
    uint32_t lower_gap = (ieee_mantissa != 0 || ieee_exponent <= 1) ? 2 : 1;
    uint32_t mv = 4 * m2, mp = 4 * m2 + 2, mm = 4 * m2 - lower_gap;

    /* Scale by 10^-e10 so that vr has one or two digits more than the shortest can need. */
    uint64_t vr, vp, vm;
    int vr_exact, vp_exact, vm_exact;
    int32_t e10;
    if (e2 >= 0) {
        int32_t q = fw_log10_pow2(e2);
        q = q > 0 ? q - 1 : 0;
        e10 = q;
        vr = fw_shift_div_pow5(mv, e2 - q, q, &vr_exact);
        vp = fw_shift_div_pow5(mp, e2 - q, q, &vp_exact);
        vm = fw_shift_div_pow5(mm, e2 - q, q, &vm_exact);
    } else {
        int32_t q = fw_log10_pow5(-e2);
        q = q > 0 ? q - 1 : 0;
        int32_t i = -e2 - q;
        e10 = q + e2;
        vr = fw_mul_pow5_shift(mv, i, q, &vr_exact);
        vp = fw_mul_pow5_shift(mp, i, q, &vp_exact);
        vm = fw_mul_pow5_shift(mm, i, q, &vm_exact);
    }
    /* vm is the lower end itself only when exact, and usable only when the end belongs; an exact
     * upper end that does not belong excludes vp. */
    int vm_trailing_zeros = accept_bounds && vm_exact;
    int vr_trailing_zeros = vr_exact;
    if (!accept_bounds && vp_exact) {
        vp -= 1;
    }
    uint32_t last_removed = 0;
    int32_t removed = 0;
    while (vp / 10 > vm / 10) {
        vm_trailing_zeros &= vm % 10 == 0;
        vr_trailing_zeros &= last_removed == 0;
        last_removed = (uint32_t)(vr % 10);
        vr /= 10;
        vp /= 10;
        vm /= 10;
        removed++;
    }
    if (vm_trailing_zeros) {
        while (vm % 10 == 0) {
            vr_trailing_zeros &= last_removed == 0;
            last_removed = (uint32_t)(vr % 10);
            vr /= 10;
            vp /= 10;
            vm /= 10;
            removed++;
        }
    }
    if (vr_trailing_zeros && last_removed == 5 && vr % 2 == 0) {
        last_removed = 4; /* exactly halfway: keep the even digit */
    }
    uint64_t output = vr + ((vr == vm && !vm_trailing_zeros) || last_removed >= 5);
    int32_t exp10 = e10 + removed;
    while (output % 10 == 0) {
        output /= 10;
        exp10++;
    }
    *digits = output;
    *exponent = exp10;
}

/* Writes the decimal digits of value (> 0) at out; returns their count. */
static inline int fw_write_digits(uint64_t value, char *out) {
    char reversed[20];
    int count = 0;
    do {
        reversed[count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    for (int i = 0; i < count; i++) {
        out[i] = reversed[count - 1 - i];
    }
    return count;
}

/* Writes value as numpy's str() of a float32 writes it; returns the length (at most
 * FW_MAX_VALUE_CHARS). positional_limit is numpy's threshold for scientific notation (1e6 or
 * 1e16). */
static int fw_format_float32(float value, double positional_limit, char *out) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    char *start = out;
    uint32_t magnitude = bits & 0x7fffffffu;
    if (magnitude > 0x7f800000u) {
        memcpy(out, "nan", 3);
        return 3;
    }
    if (bits >> 31) {
        *out++ = '-';
    }
    if (magnitude == 0x7f800000u) {
        memcpy(out, "inf", 3);
        return (int)(out - start) + 3;
    }
    if (magnitude == 0) {
        memcpy(out, "0.0", 3);
        return (int)(out - start) + 3;
    }
    float absolute;
    memcpy(&absolute, &magnitude, sizeof absolute);
    uint64_t digits;
    int32_t exponent;
    fw_shortest_float32(magnitude, &digits, &exponent);
    char text[20];
    int count = fw_write_digits(digits, text);
    int32_t first = exponent + count - 1; /* power of ten of the first digit */
    if ((double)absolute >= 1e-4 && (double)absolute < positional_limit) {
        if (first >= 0) {
            int integer_digits = first + 1;
            if (count <= integer_digits) {
                memcpy(out, text, (size_t)count);
                out += count;
                memset(out, '0', (size_t)(integer_digits - count));
                out += integer_digits - count;
                memcpy(out, ".0", 2);
                out += 2;
            } else {
                memcpy(out, text, (size_t)integer_digits);
                out += integer_digits;
                *out++ = '.';
                memcpy(out, text + integer_digits, (size_t)(count - integer_digits));
                out += count - integer_digits;
            }
        } else {
            *out++ = '0';
            *out++ = '.';
            memset(out, '0', (size_t)(-first - 1));
            out += -first - 1;
            memcpy(out, text, (size_t)count);
            out += count;
        }
    } else {
        *out++ = text[0];
        if (count > 1) {
            *out++ = '.';
            memcpy(out, text + 1, (size_t)(count - 1));
            out += count - 1;
        }
        *out++ = 'e';
        *out++ = first < 0 ? '-' : '+';
        int32_t power = first < 0 ? -first : first;
        if (power >= 100) {
            *out++ = (char)('0' + power / 100);
        }
        *out++ = (char)('0' + power / 10 % 10);
        *out++ = (char)('0' + power % 10);
    }
    return (int)(out - start);
}

/* Exact powers of ten as doubles. */
static const double fw_exact_pow10[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define FW_NOT_A_NUMBER 0 /* not of the decimal form below */
#define FW_PARSED 1       /* *value holds the correctly rounded double */
#define FW_NEEDS_FULL 2   /* a decimal number, but beyond the fast path */

/* Reads [+-]?(digits[.digits?]|.digits)([eE][+-]?digits)? from p up to end (exclusive).
 * Returns FW_NOT_A_NUMBER, FW_PARSED or FW_NEEDS_FULL; *stop is where the number ends. */
static inline int fw_parse_decimal(const char *p, const char *end, double *value,
                                   const char **stop) {
    int negative = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        negative = *p == '-';
        p++;
    }
    uint64_t mantissa = 0;
    int significant = 0;      /* digits in mantissa, leading zeros not counted */
    int dropped_nonzero = 0;  /* a nonzero digit beyond the 19 kept */
    int32_t exponent = 0;     /* of the mantissa's last digit */
    int any_digit = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        any_digit = 1;
        if (significant < 19) {
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            significant += mantissa != 0;
        } else {
            exponent++;
            dropped_nonzero |= *p != '0';
        }
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            any_digit = 1;
            if (significant < 19) {
                mantissa = mantissa * 10 + (uint64_t)(*p - '0');
                significant += mantissa != 0;
                exponent--;
            } else {
                dropped_nonzero |= *p != '0';
            }
            p++;
        }
    }
    if (!any_digit) {
        return FW_NOT_A_NUMBER;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int exponent_negative = 0;
        if (p < end && (*p == '-' || *p == '+')) {
            exponent_negative = *p == '-';
            p++;
        }
        if (!(p < end && (unsigned)(*p - '0') < 10)) {
            return FW_NOT_A_NUMBER;
        }
        int32_t written = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (written < 100000) {
                written = written * 10 + (*p - '0');
            }
            p++;
        }
        exponent += exponent_negative ? -written : written;
    }
    *stop = p;
    if (mantissa == 0 && !dropped_nonzero) {
        *value = negative ? -0.0 : 0.0;
        return FW_PARSED;
    }
    if (dropped_nonzero || mantissa > ((uint64_t)1 << 53) || exponent < -22 || exponent > 22) {
        return FW_NEEDS_FULL;
    }
    double result = (double)mantissa;
    result = exponent < 0 ? result / fw_exact_pow10[-exponent] : result * fw_exact_pow10[exponent];
    *value = negative ? -result : result;
    return FW_PARSED;
}

#endif
