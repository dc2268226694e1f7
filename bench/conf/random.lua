-- wrk script for bench/disk.sh: every request GETs one file of the data set, picked uniformly at
-- random. The data set is DISK_FILES files laid out as /dNNN/NNNN.bin, DISK_PER_DIR per folder
-- (file i is in folder i / DISK_PER_DIR). The generator is seeded per thread from DISK_SEED (disk.sh
-- passes the round number, so every server in a round gets the same sequence of files) and the
-- thread's number; without DISK_SEED, from the clock.

local files = tonumber(os.getenv("DISK_FILES") or "")
local per_dir = tonumber(os.getenv("DISK_PER_DIR") or "1024")
local seed = tonumber(os.getenv("DISK_SEED") or "") or os.time()

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

function init(args)
    if not files or files < 1 then
        error("random.lua: set DISK_FILES to the number of files in the data set")
    end
    math.randomseed(seed * 1009 + (thread_number or 0))
end

function request()
    local i = math.random(0, files - 1)
    local path = string.format("/d%03d/%04d.bin", math.floor(i / per_dir), i % per_dir)
    return wrk.format(nil, path)
end
