# Table 4 'STOA-VLP' (last row): every part; the same as the main config,
# named here so each Table 4 row has a config.
_base_ = ['../stoavlp_vit-b16-u12-res224_128xb8-10e_webvid2m-pretrain.py']
