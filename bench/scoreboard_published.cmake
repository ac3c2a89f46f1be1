# The published bugs' check (scoreboard/published_bugs*.cpp): every published bug (a name
# starting Sct, ConVul or Rad) is found by at least one seed of the portfolio strategy, and no
# published control fails on any strategy run.
#
# One run per prefix (--filter takes one substring), two seeds, under random walk, portfolio and,
# where built, Relacy. A bug that neither portfolio seed found there runs again alone, under
# portfolio only, with ten more seeds and twice the budget (the published hard ones, reorder_20,
# twostage_20 and fib_bench, may need it); only then does a miss fail the check. Model runs are
# deterministic for a seed, so the outcome does not vary between runs of one build.
#
# -DPROGRAM=<scoreboard> -DOUTPUT=<path prefix of the markdown pages> [-DRELACY=ON]
set(prefixes Sct ConVul Rad)
set(strategies random,portfolio)
if(RELACY)
  string(APPEND strategies ",relacy")
endif()

# Runs the scoreboard with the given flags, writing ${OUTPUT}_<page>.md; appends the page (its
# semicolons made commas) to `tables`.
function(run_scoreboard page)
  execute_process(COMMAND ${PROGRAM} ${ARGN} --output=${OUTPUT}_${page}.md RESULT_VARIABLE result
                  ERROR_VARIABLE progress)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "scoreboard ${ARGN} exited with ${result}:\n${progress}")
  endif()
  file(READ ${OUTPUT}_${page}.md page_text)
  string(REPLACE ";" "," page_text "${page_text}")  # rows become list items below
  set(tables "${tables}\n${page_text}" PARENT_SCOPE)
endfunction()

# The published names, from --list ("Name: ..." or "Name (control): ...").
execute_process(COMMAND ${PROGRAM} --list OUTPUT_VARIABLE listing RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "scoreboard --list exited with ${result}")
endif()
string(REGEX MATCHALL "\n(Sct|ConVul|Rad)[A-Za-z0-9]*( \\(control\\))?:" entries "\n${listing}")
set(bugs "")
set(controls "")
foreach(entry IN LISTS entries)
  string(REGEX MATCH "[A-Za-z0-9]+" name "${entry}")
  if(entry MATCHES "control")
    list(APPEND controls ${name})
  else()
    list(APPEND bugs ${name})
  endif()
endforeach()
list(LENGTH bugs bug_count)
list(LENGTH controls control_count)
if(bug_count LESS 20 OR control_count LESS 4)
  message(FATAL_ERROR "expected at least 20 published bugs and 4 controls, --list shows ${bug_count} and "
                      "${control_count}:\n${listing}")
endif()

set(tables "")
foreach(prefix IN LISTS prefixes)
  run_scoreboard(${prefix} --filter=${prefix} --strategies=${strategies} --seeds=2 --control-seeds=2 --budget=5000)
endforeach()

# The found count ("k" of "k/n") of bug `name`'s portfolio row in `text`, in `out`; -1 when there
# is no such row.
function(portfolio_found name text out)
  string(REGEX MATCH "\n\\| ${name} \\| portfolio \\| ([0-9]+)/[0-9]+ \\|" row "${text}")
  if(row)
    set(${out} ${CMAKE_MATCH_1} PARENT_SCOPE)
  else()
    set(${out} -1 PARENT_SCOPE)
  endif()
endfunction()

set(first_tables "${tables}")
set(failures "")
foreach(name IN LISTS bugs)
  portfolio_found(${name} "${first_tables}" found)
  if(found EQUAL -1)
    string(APPEND failures "  ${name}: no portfolio row in the tables\n")
  elseif(found EQUAL 0)
    set(tables "")
    run_scoreboard(${name}_again --filter=${name} --strategies=portfolio --seed=3 --seeds=10 --control-seeds=0
                   --budget=10000)
    portfolio_found(${name} "${tables}" found)
    if(NOT found GREATER 0)
      string(APPEND failures "  ${name}: not found by portfolio (seeds 1..12, up to 10000 schedules)\n")
    endif()
  endif()
endforeach()

foreach(name IN LISTS controls)
  # | name | property | strategy | found | ...
  string(REGEX MATCHALL "\n\\| ${name} \\| [^|\n]* \\| [^|\n]+ \\| [0-9]+/[0-9]+ \\|" rows "${first_tables}")
  if(NOT rows)
    string(APPEND failures "  ${name} (control): no rows in the tables\n")
  endif()
  foreach(row IN LISTS rows)
    if(NOT row MATCHES "\\| 0/[0-9]+ \\|$")
      string(STRIP "${row}" row)
      string(APPEND failures "  ${name} (control) failed: ${row}\n")
    endif()
  endforeach()
endforeach()

if(failures)
  message(FATAL_ERROR "scoreboard.published:\n${failures}(pages: ${OUTPUT}_*.md)")
endif()
message(STATUS "${bug_count} published bugs found by portfolio, ${control_count} controls passed")
