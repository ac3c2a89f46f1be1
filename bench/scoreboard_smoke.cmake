# The scoreboard's smoke test: one bug, two seeds, a small budget; the program must exit 0 and
# write a table with a row for every strategy.
execute_process(COMMAND ${PROGRAM} --filter=CheckThenSetMutex --seeds=2 --budget=50 --real-ms=500 --output=${OUTPUT}
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "scoreboard exited with ${result}")
endif()
file(READ ${OUTPUT} table)
foreach(expected "| bug | strategy | found |" "| CheckThenSetMutex | random walk | " "| CheckThenSetMutex | PCT d=3 | "
                 "| CheckThenSetMutex | std::thread loop | " "| CheckThenSetMutex | Perturbed (light) | ")
  string(FIND "${table}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${OUTPUT} has no '${expected}':\n${table}")
  endif()
endforeach()
