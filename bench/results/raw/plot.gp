set terminal pngcairo size 1400,1000 font "sans,10"
set output "/work/main/bench/results/results.png"
set multiplot layout 2,1
set style data histogram
set style fill solid 0.8 border -1
set key outside right top vertical
set logscale y
set grid ytics
set ylabel "relative to the C plugin"
set title "callgrind: server instructions per request (nbdkit --threads=1), relative to the C plugin (lower is better)"
set yrange [0.5:20]
set style histogram clustered gap 1
plot '/work/main/bench/results/raw/plot-instructions.dat' using 2:xtic(1) title "C plugin", '/work/main/bench/results/raw/plot-instructions.dat' using 3:xtic(1) title "Rust, loader", '/work/main/bench/results/raw/plot-instructions.dat' using 4:xtic(1) title "Rust, direct", '/work/main/bench/results/raw/plot-instructions.dat' using 5:xtic(1) title "examples/ramdisk", '/work/main/bench/results/raw/plot-instructions.dat' using 6:xtic(1) title "nbdkit memory", '/work/main/bench/results/raw/plot-instructions.dat' using 7:xtic(1) title "nbdkit python", 1 notitle lc 'black' dt 2
set xtics rotate by -30
set title "fio: median throughput (IOPS or MiB/s) relative to the median of the C plugin, bars min–max over 15 repetitions (higher is better)"
set yrange [0.05:3]
set style histogram errorbars gap 1 lw 1
plot '/work/main/bench/results/raw/plot-fio.dat' using 2:3:4:xtic(1) title "C plugin", '/work/main/bench/results/raw/plot-fio.dat' using 5:6:7:xtic(1) title "Rust, loader", '/work/main/bench/results/raw/plot-fio.dat' using 8:9:10:xtic(1) title "Rust, direct", '/work/main/bench/results/raw/plot-fio.dat' using 11:12:13:xtic(1) title "examples/ramdisk", '/work/main/bench/results/raw/plot-fio.dat' using 14:15:16:xtic(1) title "nbdkit memory", '/work/main/bench/results/raw/plot-fio.dat' using 17:18:19:xtic(1) title "nbdkit python", 1 notitle lc 'black' dt 2
unset multiplot
