ByJN‡\ð
kÆAVkŽ