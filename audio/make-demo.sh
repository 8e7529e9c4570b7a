#!/usr/bin/env bash
# Regenerates the demo bulletins of loa (Vĩnh Lộc, 2023) from their texts.
#
# Speech: espeak-ng, Vietnamese voice. Jingle: sox synth. Every item is brought to about
# -18 LUFS integrated (measured with ffmpeg's ebur128 filter) with one gain, its peaks held
# below -2 dBTP by a look-ahead limiter, then encoded. Formats are mixed on purpose so the
# demo exercises the decoder: MP3 (mono, 22.05 and 24 kHz, 40 kbps CBR, one with an ID3v2
# title in Vietnamese), Ogg Vorbis (22.05 kHz), FLAC (16 kHz) and a 16-bit WAV (16 kHz).
#
# Needs: espeak-ng, sox (with soxi), ffmpeg, lame, flac, oggenc (vorbis-tools).
# Usage: audio/make-demo.sh            (writes next to this script; about 10 seconds)
#
# Deterministic as far as the tools allow: sox in repeatable mode (-R) without dither, a
# fixed Ogg serial number, no timestamps in tags. Other versions of espeak-ng or of the
# encoders may give other bytes, and so other bulletin ids.

set -euo pipefail

export LC_ALL=C.UTF-8
cd "$(dirname "$0")"

for tool in espeak-ng sox soxi ffmpeg lame flac oggenc; do
    command -v "$tool" >/dev/null || { echo "make-demo.sh: $tool is not installed" >&2; exit 2; }
done

TARGET_LUFS=-18
TARGET_TP=-2.0     # headroom for the lossy encoders' overshoot
SPEED=165          # syllables per minute for espeak-ng; slogans are read slower
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak NAME TEXT [SPEED]: espeak-ng → $tmp/NAME.raw.wav (22.05 kHz mono), trimmed, then
# 150 ms of silence each side.
speak() {
    local name=$1 text=$2 speed=${3:-$SPEED}
    espeak-ng -v vi -s "$speed" -p 45 -w "$tmp/$name.tts.wav" "$text"
    sox -R -D "$tmp/$name.tts.wav" "$tmp/$name.raw.wav" \
        silence 1 0.02 0.1% reverse silence 1 0.02 0.1% reverse pad 0.15 0.15
}

# measure FILE: prints "I TP" (integrated loudness in LUFS, true peak in dBTP) of FILE.
measure() {
    ffmpeg -hide_banner -nostats -i "$1" -af ebur128=peak=true -f null - 2>&1 \
        | awk '/^ *I:/ {i=$2} /^ *Peak:/ {p=$2} END {print i, p}'
}

# level IN OUT RATE GAIN: applies GAIN dB to IN and writes OUT at RATE Hz, 16-bit mono.
# Synthetic speech has sharp peaks (about 20 dB above its loudness), so a look-ahead limiter,
# run at 4× the sample rate to catch inter-sample peaks, holds them below TARGET_TP.
level() {
    local in=$1 out=$2 rate=$3 gain=$4 limit
    limit=$(awk -v m="$TARGET_TP" 'BEGIN {printf "%.4f", 10 ^ ((m - 0.5) / 20)}')
    ffmpeg -hide_banner -loglevel error -y -i "$in" -af "aresample=88200,volume=${gain}dB,\
alimiter=limit=$limit:attack=5:release=80:level=false:latency=true" \
        -ar "$rate" -ac 1 -c:a pcm_s16le -fflags +bitexact -map_metadata -1 "$out"
}

# normalise NAME RATE: $tmp/NAME.raw.wav → $tmp/NAME.norm.wav at RATE Hz, at TARGET_LUFS.
normalise() {
    local name=$1 rate=$2 i tp
    read -r i tp < <(measure "$tmp/$name.raw.wav")
    level "$tmp/$name.raw.wav" "$tmp/$name.norm.wav" "$rate" \
        "$(awk -v i="$i" -v t="$TARGET_LUFS" 'BEGIN {printf "%.2f", t - i}')"
}

# encode NAME OUT CMD...: runs CMD, which encodes $tmp/NAME.norm.wav to OUT, then measures
# OUT. When the codec moved the loudness by more than 0.3 LU (lame's low-pass at 40 kbps
# removes highs that the K-weighting counts), corrects the input once and encodes again.
encode() {
    local name=$1 out=$2 i tp gain rate
    shift 2
    "$@"
    read -r i tp < <(measure "$out")
    gain=$(awk -v i="$i" -v t="$TARGET_LUFS" \
        'BEGIN {d = t - i; if (d > 0.3 || d < -0.3) printf "%.2f", d}')
    if [[ -n $gain ]]; then
        rate=$(soxi -r "$tmp/$name.norm.wav")
        mv "$tmp/$name.norm.wav" "$tmp/$name.pre.wav"
        level "$tmp/$name.pre.wav" "$tmp/$name.norm.wav" "$rate" "$gain"
        "$@"
    fi
}

# mp3 NAME RATE [TITLE ARTIST]: 40 kbps CBR mono; ID3v2 (UTF-16) title and artist when given.
mp3() {
    local name=$1 rate=$2 title=${3:-} artist=${4:-}
    local tags=()
    if [[ -n $title ]]; then
        tags=(--id3v2-only --id3v2-utf16 --tt "$title" --ta "$artist")
    fi
    encode "$name" "$name.mp3" lame --quiet --nohist -m m -b 40 --cbr --resample "$rate" \
        "${tags[@]}" "$tmp/$name.norm.wav" "$name.mp3"
}

# ---------------------------------------------------------------------------------------
# The texts. Numbers and dates are written as they are read aloud: espeak-ng reads
# "63/2010/NĐ-CP" badly, so the spoken form says "số 63 năm 2010".
# ---------------------------------------------------------------------------------------

# 1. Tin, III.2 (e_procedures): online public services, levels 3 and 4. MP3 22.05 kHz + ID3v2 title.
speak tin-dich-vu-cong-truc-tuyen \
"Từ năm 2023, người dân và doanh nghiệp huyện Vĩnh Lộc có thể nộp hồ sơ thủ tục hành chính \
trực tuyến mức độ ba, bốn trên Cổng Dịch vụ công quốc gia, tiết kiệm thời gian, chi phí đi lại, \
và theo dõi được tiến độ giải quyết."
normalise tin-dich-vu-cong-truc-tuyen 22050
mp3 tin-dich-vu-cong-truc-tuyen 22.05 "Tin: Dịch vụ công trực tuyến mức độ 3, 4" \
    "Trung tâm Văn hóa, Thông tin, Thể thao và Du lịch"

# 2. Bài, III.1 (documents): Circular 32/2017/TT-BTTTT and the 2023 reform plans. MP3 24 kHz.
speak bai-thong-tu-32-2017 \
"Thông tư số 32 năm 2017 của Bộ Thông tin và Truyền thông quy định việc cung cấp dịch vụ công \
trực tuyến trên cổng thông tin điện tử của cơ quan nhà nước. Thực hiện Kế hoạch cải cách hành \
chính năm 2023 của tỉnh và huyện, các cơ quan phải công khai đầy đủ thủ tục hành chính, để người \
dân dễ tìm, dễ hiểu, dễ làm."
normalise bai-thong-tu-32-2017 24000
mp3 bai-thong-tu-32-2017 24

# 3. Tin, III.3 (procedure_control): Decree 63/2010/NĐ-CP, citizens' feedback. Ogg Vorbis.
speak tin-phan-anh-kien-nghi \
"Thực hiện Nghị định số 63 năm 2010 của Chính phủ về kiểm soát thủ tục hành chính, Ủy ban nhân dân \
huyện tiếp nhận phản ánh, kiến nghị của người dân và tổ chức về quy định hành chính, tại bộ phận \
một cửa, qua đường bưu điện, hoặc trên Cổng Dịch vụ công."
normalise tin-phan-anh-kien-nghi 22050
encode tin-phan-anh-kien-nghi tin-phan-anh-kien-nghi.ogg \
    oggenc --quiet --serial 20230221 -q 0 --discard-comments \
    -t "Tin: Tiếp nhận phản ánh, kiến nghị về quy định hành chính" \
    -o tin-phan-anh-kien-nghi.ogg "$tmp/tin-phan-anh-kien-nghi.norm.wav"

# 4. Chuyên mục, III.4 (examples): the first quarter's column. MP3 22.05 kHz.
speak chuyen-muc-cchc-quy-1 \
"Chuyên mục cải cách hành chính quý một năm 2023: nêu gương người tốt, việc tốt. Tại bộ phận \
một cửa nhiều xã, thị trấn, cán bộ tận tâm hướng dẫn người dân, trả kết quả đúng hẹn. Chuyên mục \
cũng phê phán những biểu hiện sách nhiễu, gây phiền hà cho người dân."
normalise chuyen-muc-cchc-quy-1 22050
mp3 chuyen-muc-cchc-quy-1 22.05

# 5. Khẩu hiệu, III.5 (other): the "friendly government" slogan. MP3 22.05 kHz.
speak khau-hieu-chinh-quyen-than-thien \
"Đẩy mạnh cải cách hành chính, xây dựng chính quyền thân thiện, vì Nhân dân phục vụ." 140
normalise khau-hieu-chinh-quyen-than-thien 22050
mp3 khau-hieu-chinh-quyen-than-thien 22.05

# 6. Khẩu hiệu, III.2 (e_procedures): the public postal service BCCI. FLAC, kept short.
speak khau-hieu-buu-chinh-cong-ich \
"Nộp hồ sơ, nhận kết quả tại nhà, qua dịch vụ bưu chính công ích." 140
normalise khau-hieu-buu-chinh-cong-ich 16000
encode khau-hieu-buu-chinh-cong-ich khau-hieu-buu-chinh-cong-ich.flac \
    flac --silent --force --best --no-padding \
    -T "TITLE=Khẩu hiệu: Dịch vụ bưu chính công ích" \
    -o khau-hieu-buu-chinh-cong-ich.flac "$tmp/khau-hieu-buu-chinh-cong-ich.norm.wav"

# 7. Tin, III.5 (other), priority: a commune notice for one station only. MP3 22.05 kHz.
speak tin-doi-thoai-xa-vinh-hung \
"Ủy ban nhân dân xã Vĩnh Hùng thông báo: sáng thứ sáu tuần này, xã tổ chức đối thoại với \
nhân dân về cải cách thủ tục hành chính, tại hội trường Ủy ban. Kính mời bà con đến dự."
normalise tin-doi-thoai-xa-vinh-hung 22050
mp3 tin-doi-thoai-xa-vinh-hung 22.05

# 8. Nhạc hiệu: a rising four-note sting and a chord, fade out. 16-bit WAV, 16 kHz (small).
jingle=nhac-hieu-cchc
notes=(C5 E5 G5 C6)
parts=()
for i in "${!notes[@]}"; do
    sox -R -D -n -r 16000 -c 1 -b 16 "$tmp/$jingle.n$i.wav" \
        synth 0.25 pluck "${notes[$i]}" fade q 0.005 0.25 0.06
    parts+=("$tmp/$jingle.n$i.wav")
done
sox -R -D -n -r 16000 -c 3 -b 16 "$tmp/$jingle.chord3.wav" \
    synth 1.85 pluck C4 pluck E5 pluck G5 fade q 0.01 1.85 1.2
sox -R -D "$tmp/$jingle.chord3.wav" "$tmp/$jingle.chord.wav" remix -
sox -R -D "${parts[@]}" "$tmp/$jingle.chord.wav" "$tmp/$jingle.raw.wav" pad 0.05 0.1
normalise "$jingle" 16000
cp "$tmp/$jingle.norm.wav" "$jingle.wav"

ls -l -- *.mp3 *.ogg *.flac *.wav
