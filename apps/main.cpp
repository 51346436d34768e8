// sakuga command line (placeholder until the CLI lands).
#include <cstdio>
int main() { std::puts("sakuga"); return 0; }
