/* Semihosting output and exit for the C firmware (startup.c). */
#ifndef SEMIHOSTING_H
#define SEMIHOSTING_H
void semihosting_write(const char *text);
void semihosting_exit(int status) __attribute__((noreturn));
void semihosting_print_number(const char *label, float value);
#endif
