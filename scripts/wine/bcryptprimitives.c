/* A stand-in for bcryptprimitives.dll, for running the Windows build under Debian's Wine 8 only.
 *
 * Rust's standard library on Windows takes its random bytes from ProcessPrng in
 * bcryptprimitives.dll, which every Windows 10 and later has and Wine 8 lacks, so without this the
 * binary cannot start there. It is built by scripts/build-platforms and put into the test Wine
 * prefix; it is never shipped. It fills the buffer from RtlGenRandom (advapi32's SystemFunction036),
 * which Wine has.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
